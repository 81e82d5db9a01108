/* The 8254 programmable interval timer: the known clock the TSC is calibrated against. */
#ifndef HV_DRIVERS_PIT_H
#define HV_DRIVERS_PIT_H

#include <stdint.h>

#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_COMMAND 0x43
#define PIT_PORT_B 0x61           /* NMI status and control: channel 2 gate and output */
#define PIT_PORT_B_GATE2 0x01
#define PIT_PORT_B_SPEAKER 0x02
#define PIT_PORT_B_OUT2 0x20
#define PIT_CMD_CH2_LOHI_MODE0 0xb0 /* channel 2, lobyte/hibyte, interrupt on terminal count */

/* Busy-waits for ms milliseconds (at most 50) of PIT time; returns the TSC ticks that passed. */
uint64_t pit_measure_tsc(unsigned ms);

#endif

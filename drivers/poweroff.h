/* Ends the machine: how each emulator we test under is asked to stop. */
#ifndef HV_DRIVERS_POWEROFF_H
#define HV_DRIVERS_POWEROFF_H

#define BOCHS_SHUTDOWN_PORT 0x8900  /* the bytes of "Shutdown" stop Bochs */
#define QEMU_DEBUG_EXIT_PORT 0xf4   /* -device isa-debug-exit,iobase=0xf4 */

/* Asks the emulator to power off; on a machine without either, halts. */
void poweroff(void) __attribute__((noreturn));

#endif

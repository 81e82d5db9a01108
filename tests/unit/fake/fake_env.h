/*
 * Host-test fakes of what the VM-exit handlers call outside kernel/arch/x86/vmx/:
 * logging, the vCPU and scheduler, dirty tracking and the VM's devices. Each
 * records its calls in `fake_env` so that a test can check them.
 */
#ifndef TESTS_UNIT_FAKE_ENV_H
#define TESTS_UNIT_FAKE_ENV_H

#include <stdbool.h>
#include <stdint.h>

#define FAKE_UART_PORT 0x3f8 /* the one port vdev_io() claims */
#define FAKE_TSC_HZ 50000000ull

struct fake_env {
	unsigned log_errors;
	char error_text[4096];    /* the error lines logged, each ended by a newline, as far as they fit */
	unsigned irqs;
	uint8_t last_irq;
	bool wp_fault_result;     /* what dirty_wp_fault() answers */
	unsigned wp_faults, pml_drains;
	uint64_t blocked_until;
	uint8_t uart_in;          /* what a read of FAKE_UART_PORT returns; it then goes up by uart_in_step */
	uint8_t uart_in_step;
	unsigned uart_accesses;
	uint8_t uart_out[64];     /* the low bytes written to FAKE_UART_PORT, in order */
	unsigned uart_outs;
	unsigned dirty_marks;     /* dirty_mark() calls: pages the hypervisor wrote in log-dirty mode */
	uint64_t dirty_pfn[8];    /* the first ones */
	uint64_t now;             /* what time_now() answers */
	bool irq_pending;         /* what vdev_irq_pending() answers, until vdev_irq_ack() */
	uint8_t irq_vector;       /* what vdev_irq_ack() answers */
	unsigned irq_acks, dev_updates;
	uint64_t dev_update_now;  /* the time the last vdev_update() was given */
	uint64_t next_event;      /* what vdev_next_event() answers; VDEV_NEVER after reset */
};

extern struct fake_env fake_env;

void fake_env_reset(void);

#endif

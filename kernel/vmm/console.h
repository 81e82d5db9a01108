/*
 * The guest's console on the host's serial port: what a person types goes
 * to the VM's UART (waking its boot vCPU), and a guest line left without
 * its newline (a shell prompt) is shown once the guest pauses writing.
 */
#ifndef HV_KERNEL_VMM_CONSOLE_H
#define HV_KERNEL_VMM_CONSOLE_H

#include <stdint.h>
#include "kernel/task.h"
#include "kernel/vmm/vm.h"

struct console {
	struct host_task task;
	struct vm *vm;          /* NULL while there is no VM: input is dropped */
	int held;               /* a byte the UART had no room for, or -1 */
	uint64_t period_ticks;
};

/* Adds the console task to s, polling every few milliseconds. */
int console_start(struct console *c, struct sched *s, struct vm *vm);

#endif

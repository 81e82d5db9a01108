#include "kernel/vmm/console.h"

#include "drivers/serial.h"
#include "kernel/arch/x86/time.h"
#include "kernel/vmm/arch.h"
#include "kernel/vmm/vdev.h"
#include "kernel/vmm/vm.h"

#define CONSOLE_PERIOD_US 10000     /* typing latency: well below what a person notices */
/* A guest quiet this long has finished its prompt; long enough that what a person types shows in words. */
#define CONSOLE_IDLE_FLUSH_US 500000

static void console_run(struct host_task *t, uint64_t now)
{
	struct console *c = t->ctx;
	struct vm *vm = c->vm;
	struct vcpu *boot;
	int b;

	while ((b = c->held >= 0 ? c->held : serial_getc()) >= 0) {
		c->held = -1;
		if (!vm || vm->state != VM_RUNNING)
			continue; /* nobody to type to */
		if (!vdev_console_input(vm, (uint8_t)b)) {
			c->held = b;
			break;
		}
	}
	if (vm && vm->state == VM_RUNNING) {
		boot = &vm->vcpus[0];
		/* The UART stamps its output with the guest's time, as every device does. */
		vuart_flush_idle(&vm->console, vcpu_arch_guest_tsc(boot, now), time_us_to_ticks(CONSOLE_IDLE_FLUSH_US));
		/* A halted vCPU with input waiting wakes now, not at its next timer interrupt. */
		if (vdev_irq_pending(vm) && !vm->paused && boot->se.state == SCHED_BLOCKED)
			sched_wake(&boot->se);
	}
	sched_block(&t->se, now + c->period_ticks);
}

int console_start(struct console *c, struct sched *s, struct vm *vm)
{
	c->vm = vm;
	c->held = -1;
	c->period_ticks = time_us_to_ticks(CONSOLE_PERIOD_US);
	c->task = (struct host_task){ .name = "console", .run = console_run, .ctx = c };
	return task_add(s, &c->task);
}

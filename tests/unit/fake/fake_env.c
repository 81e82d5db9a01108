#include "tests/unit/fake/fake_env.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/gdt.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/trap.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/vm.h"

struct fake_env fake_env;

void fake_env_reset(void)
{
	memset(&fake_env, 0, sizeof(fake_env));
	fake_env.next_event = VDEV_NEVER;
}

void hv_log(enum hv_log_level level, const char *subsys, const char *fmt, ...)
{
	size_t used = strlen(fake_env.error_text);
	va_list ap;

	(void)subsys;
	if (level != LOG_ERROR)
		return;
	fake_env.log_errors++;
	va_start(ap, fmt);
	if (used + 1 < sizeof(fake_env.error_text)) {
		vsnprintf(fake_env.error_text + used, sizeof(fake_env.error_text) - used - 1, fmt, ap);
		strcat(fake_env.error_text, "\n");
	}
	va_end(ap);
}

void vcpu_finish(struct vcpu *v, int status)
{
	(void)status;
	v->se.state = SCHED_STOPPED;
}

/* The real vm_mem.c writes guest RAM; in log-dirty mode it marks each page here. */
void dirty_mark(struct vm *vm, struct vcpu *v, uint64_t pfn)
{
	(void)vm, (void)v;
	if (fake_env.dirty_marks < sizeof(fake_env.dirty_pfn) / sizeof(fake_env.dirty_pfn[0]))
		fake_env.dirty_pfn[fake_env.dirty_marks] = pfn;
	fake_env.dirty_marks++;
}

void sched_block(struct sched_entity *e, uint64_t until)
{
	(void)e;
	fake_env.blocked_until = until;
}

uint64_t time_now(void) { return fake_env.now; }
uint64_t time_us_to_ticks(uint64_t us) { return us; }

void irq_dispatch(uint8_t vector)
{
	fake_env.irqs++;
	fake_env.last_irq = vector;
}

bool dirty_wp_fault(struct vcpu *v, uint64_t gpa)
{
	(void)v, (void)gpa;
	fake_env.wp_faults++;
	return fake_env.wp_fault_result;
}

void dirty_pml_drain(struct vcpu *v)
{
	(void)v;
	fake_env.pml_drains++;
}

bool vdev_io(struct vm *vm, unsigned vcpu, uint64_t now, uint16_t port, unsigned size, bool in, uint32_t *val)
{
	(void)vm, (void)vcpu, (void)now, (void)size;
	if (port != FAKE_UART_PORT)
		return false;
	fake_env.uart_accesses++;
	if (in) {
		*val = fake_env.uart_in;
		fake_env.uart_in = (uint8_t)(fake_env.uart_in + fake_env.uart_in_step);
	} else if (fake_env.uart_outs < sizeof(fake_env.uart_out)) {
		fake_env.uart_out[fake_env.uart_outs++] = (uint8_t)*val;
	}
	return true;
}

void vdev_update(struct vm *vm, uint64_t now)
{
	(void)vm, (void)now;
	fake_env.dev_updates++;
	fake_env.dev_update_now = now;
}

bool vdev_irq_pending(const struct vm *vm)
{
	(void)vm;
	return fake_env.irq_pending;
}

uint8_t vdev_irq_ack(struct vm *vm)
{
	(void)vm;
	fake_env.irq_pending = false;
	fake_env.irq_acks++;
	return fake_env.irq_vector;
}

uint64_t vdev_next_event(const struct vm *vm)
{
	(void)vm;
	return fake_env.next_event;
}

uint64_t time_tsc_hz(void) { return FAKE_TSC_HZ; }

#define FAKE_FRAMES 8
#define FAKE_FRAME_SIZE 4096

/* Frames for VMXON regions and VMCSs, from a small static pool: a test makes a few. */
uint64_t frames_alloc(uint64_t size, uint64_t align)
{
	static uint8_t pool[FAKE_FRAMES][FAKE_FRAME_SIZE] __attribute__((aligned(FAKE_FRAME_SIZE)));
	static unsigned used;

	if (size > FAKE_FRAME_SIZE || align > FAKE_FRAME_SIZE || used == FAKE_FRAMES)
		return 0;
	memset(pool[used], 0, FAKE_FRAME_SIZE);
	return (uint64_t)(uintptr_t)pool[used++];
}

/* The static pool is never taken back: a test makes a few frames only. */
int frames_free(uint64_t pa, uint64_t size) { return (void)pa, (void)size, 0; }

uint64_t gdt_tss_base(void) { return 0; }

#include "kernel/vmm/vm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "drivers/uart16550.h"
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/random.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/arch.h"

static uint64_t ept_alloc_table(void *ctx)
{
	(void)ctx;
	return frames_alloc(FRAME_SIZE, FRAME_SIZE);
}

static uint64_t *ept_table(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (uint64_t *)(uintptr_t)pa; /* host memory is identity-mapped */
}

static void ept_free_table(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (frames_free(pa, FRAME_SIZE))
		log_err("vm", "EPT table at %#llx not given back", (unsigned long long)pa);
}

static const struct ept_mem ept_host_mem = { ept_alloc_table, ept_table, NULL, ept_free_table };

/* The scheduler's view of a vCPU: it runs its guest until the deadline. */
static void vcpu_sched_run(struct sched_entity *e, uint64_t now, uint64_t deadline)
{
	struct vcpu *v = e->owner;

	if (v->resumed_at) {
		/* The guest's clock ran on from the resume: this much of it was the host's delay. */
		log_info("vm", "%s: first run %llu us after its VM resumed", v->name,
			 (unsigned long long)time_ticks_to_us(now - v->resumed_at));
		v->resumed_at = 0;
	}
	if (vcpu_arch_run(v, deadline) == VCPU_RUN_STOP_VM)
		vm_stop(v->vm, "%s", vcpu_arch_stop_reason(v));
	v->ran_until = time_now();
}

int vm_create(struct vm *vm, unsigned id, const struct vm_params *p, const void *image, uint64_t image_len,
	      struct sched *sched)
{
	char uuid[UUID_TEXT_LEN + 1];
	unsigned i;
	int rc;

	memset(vm, 0, sizeof(*vm));
	vm->id = id;
	memcpy(vm->uuid, p->uuid, sizeof(vm->uuid));
	if (uuid_is_nil(vm->uuid)) {
		random_bytes(vm->uuid, sizeof(vm->uuid));
		uuid_make_v4(vm->uuid);
	}
	vm->ram_size = p->ram_bytes;
	vm->vcpu_count = p->vcpus;
	vm->sched = sched;
	throttle_init(vm, p->throttle_max);
	vuart_init(&vm->console, COM1_BASE, id);
	vdev_reset(vm, time_now()); /* the devices keep the guest's time: a new vCPU's TSC is this host's */
	/* 2 MiB alignment lets EPT map RAM with large pages. */
	vm->ram_hpa = p->ram_unzeroed ? frames_alloc_unzeroed(vm->ram_size, EPT_PAGE_2M)
				      : frames_alloc(vm->ram_size, EPT_PAGE_2M);
	if (!vm->ram_hpa) {
		log_err("vm", "vm%u: no %llu MiB block of host memory for guest RAM (%llu MiB free)", id,
			(unsigned long long)(vm->ram_size >> 20), (unsigned long long)(frames_free_bytes() >> 20));
		return HV_ENOMEM;
	}
	rc = ept_init(&vm->ept, &ept_host_mem);
	if (!rc)
		rc = ept_map(&vm->ept, 0, vm->ram_hpa, vm->ram_size, EPT_RWX, vm_arch_large_pages());
	if (rc)
		goto out;
	vm->eptp = ept_pointer(&vm->ept, false);
	rc = image ? vm_load_image(vm, p, image, image_len) : HV_OK;
	if (rc)
		goto out;
	for (i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		/* Short ids always fit; a name cut short would make the logs lie. */
		rc = snprintf(v->name, sizeof(v->name), "vm%u/vcpu%u", id, i) < (int)sizeof(v->name) ? HV_OK : HV_EINVAL;
		if (!rc)
			rc = vcpu_arch_create(v);
		if (!rc)
			rc = sched_add(sched, &v->se, v->name, SCHED_KIND_VCPU, vcpu_sched_run, v);
		if (rc)
			goto out;
	}
	vm->state = VM_RUNNING;
	uuid_format(vm->uuid, uuid);
	log_info("vm", "vm%u: %llu MiB RAM at host %#llx (EPT: %llu x 2M + %llu x 4K pages, %llu tables), "
		 "%u vCPUs, guest image %llu bytes, uuid %s",
		 id, (unsigned long long)(vm->ram_size >> 20), (unsigned long long)vm->ram_hpa,
		 (unsigned long long)vm->ept.pages_2m, (unsigned long long)vm->ept.pages_4k,
		 (unsigned long long)vm->ept.tables, vm->vcpu_count, (unsigned long long)image_len, uuid);
	return HV_OK;
out:
	/* Whatever was taken goes back: a failed create leaves the frame pool as it found it. */
	vm_destroy(vm);
	return HV_TRACE(rc);
}

void vm_stop(struct vm *vm, const char *fmt, ...)
{
	va_list ap;
	unsigned i;

	if (vm->state != VM_RUNNING)
		return;
	va_start(ap, fmt);
	vsnprintf(vm->stop_reason, sizeof(vm->stop_reason), fmt, ap);
	va_end(ap);
	vm->state = VM_STOPPED;
	for (i = 0; i < vm->vcpu_count; i++) {
		vuart_flush(&vm->console, i);
		sched_stop(&vm->vcpus[i].se);
	}
	log_err("vm", "vm%u stopped: %s", vm->id, vm->stop_reason);
	log_info("vm", "vm%u: the hypervisor keeps running", vm->id);
}

void vm_pause(struct vm *vm)
{
	unsigned i;

	if (vm->paused)
		return;
	for (i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->paused_state = v->se.state;
		v->paused_wake_at = v->se.wake_at;
		if (v->se.state != SCHED_STOPPED)
			sched_block(&v->se, SCHED_NEVER);
	}
	vm->paused = true;
}

void vm_resume(struct vm *vm)
{
	unsigned i;

	if (!vm->paused)
		return;
	for (i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->se.state == SCHED_STOPPED)
			continue; /* stopped while paused (vm_stop) */
		v->se.state = v->paused_state;
		v->se.wake_at = v->paused_wake_at;
		v->resumed_at = time_now();
	}
	vm->paused = false;
}

void vm_log_stats(const struct vm *vm)
{
	unsigned i;

	for (i = 0; i < vm->vcpu_count; i++)
		vcpu_arch_log_stats(&vm->vcpus[i]);
	if (vm->dev.pit_irqs)
		log_info("stats", "vm%u: %llu timer interrupts raised, %llu coalesced; console %llu bytes out, %llu in; "
			 "the CPU idled %llu ms",
			 vm->id, (unsigned long long)vm->dev.pit_irqs, (unsigned long long)vm->dev.pit_coalesced,
			 (unsigned long long)vm->console.bytes_out, (unsigned long long)vm->console.bytes_in,
			 (unsigned long long)(time_ticks_to_us(vm->sched->idle_ticks) / 1000));
}

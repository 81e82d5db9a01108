/* The VM hooks of both sides over the VM model (migration/hv_ports.h). */
#include "migration/hv_ports.h"

#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/arch.h"
#include "kernel/vmm/vm.h"
#include "migration/hv_dev.h"
#include "migration/hv_vcpu.h"

#define NS_PER_S 1000000000ull
/* Two hosts' TSCs calibrated against the PIT differ by this much at most and still count as one rate. */
#define TSC_RATE_TOLERANCE_DIV 200 /* 0.5% */
/* Host memory a received VM must leave free (page tables, VMCSs, buffers). */
#define HOST_RESERVE (4ull << 20)

/* ---- source ---- */

static int src_pause(void *ctx)
{
	struct migr_hv_vm *h = ctx;
	struct vcpu_state s;
	unsigned i;
	int rc;

	vm_pause(h->vm);
	h->pause_ticks = time_now();
	/* The guest sees this lapse and the pause as one jump of its clock. */
	for (i = 0; i < h->vm->vcpu_count; i++)
		h->lapse_us[i] = time_ticks_to_us(h->pause_ticks - h->vm->vcpus[i].ran_until);
	/* The guest's TSC stands still from here as far as the guest can tell: B continues from it. */
	rc = vcpu_arch_state_save(&h->vm->vcpus[0], &s);
	h->tsc_at_pause = s.tsc;
	return rc;
}

static int src_resume(void *ctx)
{
	vm_resume(((struct migr_hv_vm *)ctx)->vm);
	return HV_OK;
}

static void notify(struct migr_hv_vm *h, struct vm *vm)
{
	if (h->vm_changed)
		h->vm_changed(h->vm_changed_ctx, vm);
}

static void src_release(void *ctx)
{
	struct migr_hv_vm *h = ctx;

	if (!h->vm)
		return;
	vm_destroy(h->vm);
	h->vm = NULL;
	notify(h, NULL);
}

static long src_vcpu(void *ctx, uint32_t i, uint8_t *buf, size_t cap, uint32_t *count)
{
	struct migr_hv_vm *h = ctx;
	struct vcpu_state s;
	int rc;

	if (i >= h->vm->vcpu_count)
		return HV_EINVAL;
	rc = vcpu_arch_state_save(&h->vm->vcpus[i], &s);
	return rc ? rc : migr_hv_vcpu_encode(&s, buf, cap, count);
}

static long src_device(void *ctx, uint32_t i, uint8_t *buf, size_t cap)
{
	const struct vm *vm = ((struct migr_hv_vm *)ctx)->vm;

	return migr_hv_dev_encode(&vm->dev, &vm->console, i, buf, cap);
}

static int src_time(void *ctx, uint8_t *buf, size_t cap)
{
	struct migr_hv_vm *h = ctx;
	struct migr_time t = { .tsc_at_pause = h->tsc_at_pause, .tsc_hz = time_tsc_hz(),
			       .pause_ns = time_ticks_to_us(h->pause_ticks) * 1000 };

	if (cap < sizeof(t))
		return HV_ERANGE;
	memcpy(buf, &t, sizeof(t));
	return HV_OK;
}

static void any_random(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	migr_hv_random(buf, n);
}

const struct migr_source_vm_ops migr_hv_source_ops = { src_pause, src_resume, src_release, src_vcpu, src_device,
						       src_time, any_random };

/* ---- destination ---- */

static bool tsc_rate_ok(uint64_t theirs)
{
	uint64_t ours = time_tsc_hz(), d = theirs > ours ? theirs - ours : ours - theirs;

	return d <= ours / TSC_RATE_TOLERANCE_DIV;
}

/* What this host can offer: memory, vCPUs, every CPU feature the source had, its TSC rate. */
static int dst_check(const struct migr_header *hd)
{
	uint64_t ours = migr_hv_cpu_features();

	if (!hd->ram_bytes || hd->ram_bytes % MIGR_PAGE_SIZE || hd->ram_bytes + HOST_RESERVE > frames_free_bytes()) {
		log_warn("migr", "refused: %llu MiB of guest RAM, %llu MiB free here",
			 (unsigned long long)(hd->ram_bytes >> 20), (unsigned long long)(frames_free_bytes() >> 20));
		return HV_ENOMEM;
	}
	if (!hd->vcpus || hd->vcpus > HV_MAX_VCPUS) {
		log_warn("migr", "refused: %u vCPUs, at most %u here", hd->vcpus, HV_MAX_VCPUS);
		return HV_ENOTSUP;
	}
	if (hd->cpu_features & ~ours) {
		log_warn("migr", "refused: CPU features %#llx missing here", (unsigned long long)(hd->cpu_features & ~ours));
		return HV_ENOTSUP;
	}
	if (!tsc_rate_ok(hd->tsc_hz)) {
		log_warn("migr", "refused: TSC at %llu kHz, %llu kHz here (no TSC scaling)",
			 (unsigned long long)(hd->tsc_hz / 1000), (unsigned long long)(time_tsc_hz() / 1000));
		return HV_ENOTSUP;
	}
	return HV_OK;
}

_Static_assert(sizeof(((struct migr_header *)0)->uuid) == UUID_LEN, "the stream carries struct vm's uuid");

static int dst_create(void *ctx, const uint8_t *header_body)
{
	struct migr_hv_vm *h = ctx;
	struct vm_params p = { 0 };
	int rc;

	memcpy(&h->header, header_body, sizeof(h->header));
	if (h->vm)
		return HV_EBUSY;
	if ((rc = dst_check(&h->header)))
		return rc;
	p.ram_bytes = h->header.ram_bytes;
	p.vcpus = h->header.vcpus;
	p.throttle_max = SCHED_THROTTLE_MAX;
	memcpy(p.uuid, h->header.uuid, sizeof(p.uuid)); /* the same VM: its identity comes with it */
	/* The receiver writes every page before the VM runs (its first pass, or zeros after it: b.written). */
	p.ram_unzeroed = true;
	rc = vm_create(h->store, 0, &p, NULL, 0, h->sched);
	if (rc) {
		vm_destroy(h->store);
		return rc;
	}
	/* Nothing runs it before COMMIT: its vCPUs wait blocked, and start() lets them go. */
	vm_pause(h->store);
	h->vm = h->store;
	h->vcpus_loaded = 0;
	h->time_loaded = false;
	h->dev_seen = 0;
	h->started = false;
	return HV_OK;
}

static int dst_vcpu(void *ctx, uint32_t i, const uint8_t *subs, uint32_t len, uint32_t count)
{
	struct migr_hv_vm *h = ctx;
	int rc;

	if (!h->vm || i >= h->vm->vcpu_count)
		return HV_EINVAL;
	rc = migr_hv_vcpu_decode(subs, len, count, &h->vcpu[i]);
	/* Loaded now so that a state the hardware refuses fails before READY; again at start with the TSC. */
	if (!rc)
		rc = vcpu_arch_state_load(&h->vm->vcpus[i], &h->vcpu[i]);
	if (!rc)
		h->vcpus_loaded |= 1u << i;
	return rc;
}

static int dst_device(void *ctx, const uint8_t *body, uint32_t len)
{
	struct migr_hv_vm *h = ctx;

	if (!h->vm)
		return HV_EINVAL;
	return migr_hv_dev_decode(body, len, &h->vm->dev, &h->vm->console, &h->dev_seen);
}

static int dst_time(void *ctx, const uint8_t *body)
{
	struct migr_hv_vm *h = ctx;

	memcpy(&h->time, body, sizeof(h->time));
	if (!tsc_rate_ok(h->time.tsc_hz))
		return HV_ENOTSUP;
	/* The devices came before: their times and lines must fit the guest's clock at the pause. */
	if (!h->vm || migr_hv_dev_check(&h->vm->dev, &h->vm->console, h->dev_seen, h->time.tsc_at_pause))
		return HV_EINVAL;
	h->time_loaded = true;
	return HV_OK;
}

/* ns to TSC ticks without overflow for any downtime below a day. */
static uint64_t ns_to_tsc(uint64_t ns)
{
	uint64_t hz = time_tsc_hz();

	return ns / NS_PER_S * hz + ns % NS_PER_S * hz / NS_PER_S;
}

static int dst_start(void *ctx, uint64_t downtime_ns)
{
	struct migr_hv_vm *h = ctx;
	uint64_t tsc;
	unsigned i;
	int rc;

	if (!h->vm || !h->time_loaded || h->vcpus_loaded != (1u << h->vm->vcpu_count) - 1)
		return HV_EINVAL;
	/* The guest's clock moves on by the downtime, never back: every vCPU from the same TSC. */
	tsc = h->time.tsc_at_pause + ns_to_tsc(downtime_ns);
	for (i = 0; i < h->vm->vcpu_count; i++) {
		h->vcpu[i].tsc = tsc;
		if ((rc = vcpu_arch_state_load(&h->vm->vcpus[i], &h->vcpu[i])))
			return rc;
	}
	vm_resume(h->vm);
	h->started = true;
	h->downtime_ns = downtime_ns;
	h->tsc_at_start = tsc;
	notify(h, h->vm);
	return HV_OK;
}

static void dst_discard(void *ctx)
{
	struct migr_hv_vm *h = ctx;

	if (!h->vm || h->started)
		return;
	vm_destroy(h->vm);
	h->vm = NULL;
}

/* What was loaded stays in the VM until the next pause loads over it: only the marks go. */
static void dst_drop_state(void *ctx)
{
	struct migr_hv_vm *h = ctx;

	h->vcpus_loaded = 0;
	h->time_loaded = false;
	h->dev_seen = 0;
}

const struct migr_dest_vm_ops migr_hv_dest_ops = { dst_create, dst_vcpu, dst_device, dst_time, dst_start,
						   dst_discard, any_random, dst_drop_state };

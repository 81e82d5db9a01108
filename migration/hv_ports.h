/*
 * The ports of migration/port.h over this hypervisor: guest memory through
 * the VM's RAM (bounds checked), the dirty log, the scheduler's throttle,
 * the TSC, and the VM hooks of both sides (pause, vCPU and UART state,
 * time; create, load, start, discard, free).
 */
#ifndef MIGR_HV_PORTS_H
#define MIGR_HV_PORTS_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/arch/x86/vcpu_state.h"
#include "kernel/guest_abi.h"
#include "migration/port.h"
#include "migration/stream.h"

struct vm;
struct sched;

/* The VM a migration works on, with what each side keeps of it. */
struct migr_hv_vm {
	struct vm *vm;           /* source: the running VM; destination: NULL until create() */
	struct vm *store;        /* destination: where create() builds it */
	struct sched *sched;
	unsigned throttle_max;   /* the VM's own ceiling, put back on release */
	/* source */
	uint64_t tsc_at_pause;   /* guest TSC when paused */
	uint64_t pause_ticks;    /* host TSC then */
	uint64_t lapse_us[HV_MAX_VCPUS]; /* how long before the pause each vCPU last left its guest */
	/* destination */
	struct migr_header header;
	struct vcpu_state vcpu[HV_MAX_VCPUS];
	uint32_t vcpus_loaded;   /* bit per vCPU */
	struct migr_time time;
	bool time_loaded, started;
	uint32_t dev_seen;        /* bit per device whose record was loaded */
	uint64_t downtime_ns;    /* what start() was told */
	uint64_t tsc_at_start;   /* guest TSC it went on from: tsc_at_pause moved on by downtime_ns */
	/* A VM appeared on this host (started here) or left it (released, discarded). */
	void (*vm_changed)(void *ctx, struct vm *vm);
	void *vm_changed_ctx;
};

extern const struct migr_memory_ops migr_hv_memory_ops;
extern const struct migr_dirty_ops migr_hv_dirty_ops;
extern const struct migr_throttle_ops migr_hv_throttle_ops;
extern const struct migr_source_vm_ops migr_hv_source_ops;
extern const struct migr_dest_vm_ops migr_hv_dest_ops;
/* The TSC; hz is filled by migr_hv_ports_init(). */
extern struct migr_clock_ops migr_hv_clock_ops;

void migr_hv_ports_init(void);

/* What the stream's header says of this host's CPU: CPUID.1 ECX:EDX. */
uint64_t migr_hv_cpu_features(void);
/* Fresh bytes from RDRAND, mixed with the TSC where RDRAND fails. */
void migr_hv_random(uint8_t *buf, size_t n);

#endif

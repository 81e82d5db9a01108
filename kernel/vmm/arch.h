/*
 * What the generic VM model asks of the architecture (kernel/arch/x86/ with
 * VT-x implements it): enable virtualisation, build and run a vCPU, read and
 * write its state. Generic code includes this and never a vmx/ header.
 */
#ifndef HV_KERNEL_VMM_ARCH_H
#define HV_KERNEL_VMM_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct vcpu_state;

/* Enables virtualisation on this CPU; HV_ENOTSUP with the reason in why when it cannot run VMs. */
int vm_arch_init(char *why, size_t len);

/* Whether the second-level page tables may map guest RAM with 2 MiB pages. */
bool vm_arch_large_pages(void);

/* Up to max names of the hardware features in use ("vmx", "ept", ...); returns how many. */
unsigned vm_arch_features(const char **names, unsigned max);

/*
 * Builds v's hardware context for the boot convention of kernel/guest_abi.h
 * (v->vm and v->id set, guest RAM mapped).
 */
int vcpu_arch_create(struct vcpu *v);

/*
 * Gives back everything vcpu_arch_create and log-dirty mode took for v
 * (its VMCS, cleared first, and its page-modification log). v never runs
 * again. Safe on a vCPU whose create failed part-way or never happened.
 */
void vcpu_arch_destroy(struct vcpu *v);

enum vcpu_run_end {
	VCPU_RUN_YIELD,     /* deadline reached, or v blocked or finished: the scheduler goes on */
	VCPU_RUN_STOP_VM,   /* the VM must stop: vcpu_arch_stop_reason() says why */
};

/* Runs v until the deadline (TSC), until it blocks or finishes, or until its VM must stop. */
enum vcpu_run_end vcpu_arch_run(struct vcpu *v, uint64_t deadline);

/* Why the last vcpu_arch_run() ended with VCPU_RUN_STOP_VM. */
const char *vcpu_arch_stop_reason(const struct vcpu *v);

/*
 * A vCPU's whole guest-visible state (kernel/arch/x86/vcpu_state.h), read
 * or written as one value. v must not run meanwhile: the caller pauses it
 * (vm_pause) first. Neither assumes v last ran on this CPU: each makes v's
 * hardware context current itself. Load checks s whole before it changes
 * anything (HV_EINVAL). HV_EIO when the hardware refuses an access.
 */
int vcpu_arch_state_save(struct vcpu *v, struct vcpu_state *s);
int vcpu_arch_state_load(struct vcpu *v, const struct vcpu_state *s);

/* v's clock (its TSC) when this host's TSC reads host_tsc: the time its devices keep. */
uint64_t vcpu_arch_guest_tsc(const struct vcpu *v, uint64_t host_tsc);

/* VM exits of v so far. */
uint64_t vcpu_arch_exits(const struct vcpu *v);

/* Logs v's run time and exit counts, one line. */
void vcpu_arch_log_stats(const struct vcpu *v);

#endif

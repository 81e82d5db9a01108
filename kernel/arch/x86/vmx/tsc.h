/*
 * The guest's clock: its TSC is the host's plus TSC_OFFSET (offsetting is
 * always on). The vCPU keeps a copy of the field, so that the devices' time
 * (the guest's TSC) can be read and turned into host deadlines without a
 * VMREAD, and while another vCPU's VMCS is current.
 */
#ifndef HV_KERNEL_ARCH_X86_VMX_TSC_H
#define HV_KERNEL_ARCH_X86_VMX_TSC_H

#include <stdint.h>
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/vmm/vm.h"

/* v's VMCS is current. */
static inline void vmx_tsc_offset_set(struct vcpu *v, uint64_t offset)
{
	v->arch.tsc_offset = offset;
	vmcs_write64(TSC_OFFSET, offset);
}

static inline uint64_t vmx_guest_tsc(const struct vcpu *v, uint64_t host_tsc) { return host_tsc + v->arch.tsc_offset; }

/* The host TSC at which v's clock reads guest_deadline; host_now when that has passed. */
static inline uint64_t vmx_host_deadline(const struct vcpu *v, uint64_t host_now, uint64_t guest_deadline)
{
	uint64_t guest_now = vmx_guest_tsc(v, host_now);

	return (int64_t)(guest_deadline - guest_now) > 0 ? host_now + (guest_deadline - guest_now) : host_now;
}

#endif

/* The VM model's interface to the architecture (kernel/vmm/arch.h), on VT-x. */
#include "kernel/vmm/arch.h"

#include <stdio.h>
#include <string.h>
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/tsc.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/dirty_vmx.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define FXSAVE_FCW_DEFAULT 0x037f   /* x87 control word after FNINIT */
#define FXSAVE_MXCSR_DEFAULT 0x1f80 /* SSE control after reset */
#define FXSAVE_MXCSR_OFFSET 24

int vm_arch_init(char *why, size_t len) { return vmx_init(why, len); }

bool vm_arch_large_pages(void) { return vmx_get_caps()->ept_2m; }

unsigned vm_arch_features(const char **names, unsigned max)
{
	const struct vmx_caps *c = vmx_get_caps();
	const struct {
		bool on;
		const char *name;
	} f[] = {
		{ c->vmx, "vmx" },
		{ c->ept, "ept" },
		{ c->unrestricted_guest, "unrestricted_guest" },
		{ c->vpid, "vpid" },
		{ c->preemption_timer, "preemption_timer" },
		{ c->ept_ad, "ept_ad" },
		{ c->pml, "pml" },
		{ c->ept_2m, "ept_2m" },
	};
	unsigned i, n = 0;

	for (i = 0; i < sizeof(f) / sizeof(f[0]) && n < max; i++)
		if (f[i].on)
			names[n++] = f[i].name;
	return n;
}

static void vcpu_fpu_reset(struct vcpu *v)
{
	uint32_t mxcsr = FXSAVE_MXCSR_DEFAULT;
	uint16_t fcw = FXSAVE_FCW_DEFAULT;

	memset(v->arch.fpu, 0, sizeof(v->arch.fpu));
	memcpy(v->arch.fpu, &fcw, sizeof(fcw));
	memcpy(v->arch.fpu + FXSAVE_MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
}

int vcpu_arch_create(struct vcpu *v)
{
	vcpu_fpu_reset(v);
	v->arch.debug.dr6 = DR6_RESET;
	vmsr_reset(&v->arch.msrs, v->id == 0);
	vmsr_disown(v);
	/* The test guest: EBX points at its boot parameters, ESI is the vCPU's index; Linux: ESI is the zero page. */
	v->arch.regs.rbx = v->vm->boot.rbx;
	v->arch.regs.rsi = v->vm->boot.linux ? v->vm->boot.rsi : v->id;
	return vmcs_create(v);
}

void vcpu_arch_destroy(struct vcpu *v)
{
	dirty_pml_release(v);
	vmcs_destroy(v);
}

const char *vcpu_arch_stop_reason(const struct vcpu *v) { return v->arch.stop_reason; }

uint64_t vcpu_arch_guest_tsc(const struct vcpu *v, uint64_t host_tsc) { return vmx_guest_tsc(v, host_tsc); }

uint64_t vcpu_arch_exits(const struct vcpu *v) { return v->arch.exits_total; }

void vcpu_arch_log_stats(const struct vcpu *v)
{
	char line[200];
	unsigned r;
	int n = 0;

	for (r = 0; r < EXIT_REASON_MAX && n < (int)sizeof(line) - 24; r++)
		if (v->arch.exits[r])
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %u:%llu", r,
				      (unsigned long long)v->arch.exits[r]);
	line[n] = '\0';
	log_info("stats",
		 "%s: ran %llu us in %llu slices, %llu exits (reason:count%s), %llu events re-injected, "
		 "%llu host NMIs, %llu interrupts injected, %llu MSR accesses refused",
		 v->name, (unsigned long long)time_ticks_to_us(v->se.runtime), (unsigned long long)v->se.slices,
		 (unsigned long long)v->arch.exits_total, n ? line : " none",
		 (unsigned long long)v->arch.events_reinjected, (unsigned long long)v->arch.host_nmis,
		 (unsigned long long)v->arch.irqs_injected, (unsigned long long)v->arch.msr_gp);
}

#include "kernel/arch/x86/vmx/caps.h"

#include <stdio.h>
#include "kernel/arch/x86/hw/cpuid.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/lib/log.h"

static bool allowed1(uint64_t cap, uint32_t bit) { return (cap >> 32) & bit; }

void vmx_caps_read(struct vmx_caps *c)
{
	uint64_t basic, fc;

	*c = (struct vmx_caps){ 0 };
	c->vmx = cpuid(1, 0).ecx & CPUID_1_ECX_VMX;
	if (!c->vmx)
		return;
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	c->enabled_by_firmware = !(fc & FEATURE_CONTROL_LOCKED) || (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->revision = (uint32_t)(basic & VMX_BASIC_REVISION_MASK);
	c->true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	c->ins_outs_info = basic & VMX_BASIC_INS_OUTS_INFO;
	c->pinbased = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	c->procbased = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	c->entry = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	if (allowed1(c->procbased, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		c->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	c->ept = allowed1(c->procbased2, SECONDARY_EXEC_ENABLE_EPT);
	c->unrestricted_guest = allowed1(c->procbased2, SECONDARY_EXEC_UNRESTRICTED_GUEST);
	c->vpid = allowed1(c->procbased2, SECONDARY_EXEC_ENABLE_VPID);
	c->pml = allowed1(c->procbased2, SECONDARY_EXEC_ENABLE_PML);
	c->preemption_timer = allowed1(c->pinbased, PIN_BASED_VMX_PREEMPTION_TIMER);
	c->preemption_timer_shift = (unsigned)(c->misc & VMX_MISC_PREEMPT_RATE_MASK);
	if (c->ept || c->vpid)
		c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	c->ept_ad = c->ept_vpid & EPT_CAP_AD;
	c->ept_2m = c->ept_vpid & EPT_CAP_2MB;
	c->ept_1g = c->ept_vpid & EPT_CAP_1GB;
	c->ept_wb = c->ept_vpid & EPT_CAP_WB;
	c->invept_single = (c->ept_vpid & EPT_CAP_INVEPT) && (c->ept_vpid & EPT_CAP_INVEPT_SINGLE);
}

static const char *yn(bool b) { return b ? "yes" : "no"; }

void vmx_caps_log(const struct vmx_caps *c)
{
	if (!c->vmx) {
		log_info("vmx", "caps: VT-x no");
		return;
	}
	log_info("vmx",
		 "caps: VT-x yes, revision %#x, EPT %s, unrestricted guest %s, VPID %s, preemption timer %s (TSC>>%u), "
		 "EPT A/D %s, PML %s, EPT 2M %s, EPT 1G %s",
		 c->revision, yn(c->ept), yn(c->unrestricted_guest), yn(c->vpid), yn(c->preemption_timer),
		 c->preemption_timer_shift, yn(c->ept_ad), yn(c->pml), yn(c->ept_2m), yn(c->ept_1g));
}

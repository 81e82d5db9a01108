#include "kernel/arch/x86/vmx/vmx.h"

#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/gdt.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmsr.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define VMCS_LINK_NONE (~0ull)
#define GUEST_FLAT_LIMIT 0xffffffffu
#define GUEST_TABLE_LIMIT 0xffffu
#define GUEST_PAT_DEFAULT 0x0007040600070406ull

static struct vmx_caps caps;
static uint64_t vmxon_pa;
static uint64_t current_vmcs_pa; /* what VMPTRLD last made current on this CPU */
static uint64_t msr_bitmap_pa;   /* one MSR bitmap for every vCPU */

const struct vmx_caps *vmx_get_caps(void) { return &caps; }

int vmx_init(char *why, size_t len)
{
	uint64_t fc, cr0, cr4;
	uint32_t *region;
	int rc;

	vmx_caps_read(&caps);
	vmx_caps_log(&caps);
	rc = vmx_caps_check(&caps, why, len);
	if (rc)
		return rc;

	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCKED))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX);

	/* VMXON requires CR0 and CR4 to satisfy the FIXED0/FIXED1 MSRs; CR0.NE is one of them. */
	cr0 = (read_cr0() | CR0_NE | caps.cr0_fixed0) & caps.cr0_fixed1;
	cr4 = (read_cr4() | CR4_VMXE | caps.cr4_fixed0) & caps.cr4_fixed1;
	write_cr0(cr0);
	write_cr4(cr4);

	vmxon_pa = frames_alloc(FRAME_SIZE, FRAME_SIZE);
	if (!vmxon_pa)
		return HV_ENOMEM;
	region = (uint32_t *)(uintptr_t)vmxon_pa;
	region[0] = caps.revision;
	if (vmxon(vmxon_pa)) {
		strncpy(why, "VMXON failed", len);
		return HV_EIO;
	}
	msr_bitmap_pa = frames_alloc(FRAME_SIZE, FRAME_SIZE);
	if (!msr_bitmap_pa)
		return HV_ENOMEM;
	vmsr_bitmap_build((uint8_t *)(uintptr_t)msr_bitmap_pa);
	log_info("vmx", "VMX operation on (VMXON region %#llx)", (unsigned long long)vmxon_pa);
	return HV_OK;
}

static int vmcs_controls(const struct vcpu *v)
{
	uint32_t miss_pin, miss_proc, miss_proc2, miss_exit, miss_entry;
	uint32_t pin = vmx_ctls_adjust(caps.pinbased,
				       PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING | PIN_BASED_VMX_PREEMPTION_TIMER,
				       &miss_pin);
	/* Every I/O access exits: the guest reaches no host device. MSRs exit as the bitmap says (vmsr.h). */
	/* CR8 exits both ways: the guest's TPR is virtual and never reaches the host's LAPIC. */
	uint32_t proc = vmx_ctls_adjust(caps.procbased,
					CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING |
						CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING |
						CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_USE_TSC_OFFSETTING |
						CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
					&miss_proc);
	uint32_t proc2 = vmx_ctls_adjust(caps.procbased2,
					 SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST, &miss_proc2);
	/* Debug controls: the guest's DR7 and IA32_DEBUGCTL live in the VMCS across exits. */
	uint32_t exit = vmx_ctls_adjust(caps.exit,
					VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_ACK_INTR_ON_EXIT | VM_EXIT_SAVE_IA32_PAT |
						VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER |
						VM_EXIT_SAVE_DEBUG_CONTROLS,
					&miss_exit);
	uint32_t entry = vmx_ctls_adjust(caps.entry,
					 VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_DEBUG_CONTROLS,
					 &miss_entry);

	if (miss_pin | miss_proc | miss_proc2 | miss_exit | miss_entry) {
		log_err("vmx", "%s: controls not allowed: pin %#x proc %#x proc2 %#x exit %#x entry %#x", v->name, miss_pin,
			miss_proc, miss_proc2, miss_exit, miss_entry);
		return HV_ENOTSUP;
	}
	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, pin);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write32(VM_EXIT_CONTROLS, exit);
	vmcs_write32(VM_ENTRY_CONTROLS, entry);
	vmcs_write32(EXCEPTION_BITMAP, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write64(EPT_POINTER, v->vm->eptp);
	vmcs_write64(TSC_OFFSET, 0); /* as v->arch.tsc_offset starts */
	vmcs_write64(MSR_BITMAP, msr_bitmap_pa);
	/*
	 * The guest owns CR0 and CR4 except the bits VMX forces on, and
	 * CR4.OSXSAVE: XCR0 stays the host's while a guest runs (xstate.h), so
	 * a guest may not turn on the AVX state FXSAVE does not switch. It reads
	 * them as it set them.
	 */
	vmcs_write64(CR0_GUEST_HOST_MASK, CR0_NE);
	vmcs_write64(CR0_READ_SHADOW, CR0_PE | CR0_ET);
	vmcs_write64(CR4_GUEST_HOST_MASK, CR4_VMXE | CR4_OSXSAVE);
	vmcs_write64(CR4_READ_SHADOW, 0);
	return HV_OK;
}

static void vmcs_host_state(void)
{
	struct desc_ptr gdtr = read_gdtr(), idtr = read_idtr();

	vmcs_write64(HOST_CR0, read_cr0());
	vmcs_write64(HOST_CR3, read_cr3());
	vmcs_write64(HOST_CR4, read_cr4());
	vmcs_write16(HOST_CS_SELECTOR, GDT_SEL_CODE);
	vmcs_write16(HOST_SS_SELECTOR, GDT_SEL_DATA);
	vmcs_write16(HOST_DS_SELECTOR, GDT_SEL_DATA);
	vmcs_write16(HOST_ES_SELECTOR, GDT_SEL_DATA);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, GDT_SEL_TSS);
	vmcs_write64(HOST_FS_BASE, 0);
	vmcs_write64(HOST_GS_BASE, 0);
	vmcs_write64(HOST_TR_BASE, gdt_tss_base());
	vmcs_write64(HOST_GDTR_BASE, gdtr.base);
	vmcs_write64(HOST_IDTR_BASE, idtr.base);
	vmcs_write32(HOST_IA32_SYSENTER_CS, 0);
	vmcs_write64(HOST_IA32_SYSENTER_ESP, 0);
	vmcs_write64(HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	/* HOST_RSP and HOST_RIP are written by vmx_run() before every entry. */
}

static void vmcs_guest_segment(enum vmcs_field sel, uint16_t value, uint32_t ar)
{
	/* Selector, base, limit and access rights fields are laid out at fixed strides (SDM B.1.2-B.4.3). */
	unsigned idx = (sel - GUEST_ES_SELECTOR) / 2;

	vmcs_write16(sel, value);
	vmcs_write64(GUEST_ES_BASE + idx * 2, 0);
	vmcs_write32(GUEST_ES_LIMIT + idx * 2, GUEST_FLAT_LIMIT);
	vmcs_write32(GUEST_ES_AR_BYTES + idx * 2, ar);
}

static void vmcs_guest_state(const struct vm_boot *b)
{
	uint32_t code_ar = AR_TYPE_CODE_XR_ACCESSED | AR_S | AR_P | AR_DB | AR_G;
	uint32_t data_ar = AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P | AR_DB | AR_G;

	/* Both boot conventions (kernel/guest_abi.h, Linux's 32-bit entry): protected mode, paging off, flat segments. */
	vmcs_write64(GUEST_CR0, (CR0_PE | CR0_ET | CR0_NE | caps.cr0_fixed0) & caps.cr0_fixed1 & ~CR0_PG);
	vmcs_write64(GUEST_CR3, 0);
	vmcs_write64(GUEST_CR4, (CR4_VMXE | caps.cr4_fixed0) & caps.cr4_fixed1);
	vmcs_guest_segment(GUEST_CS_SELECTOR, b->cs, code_ar);
	vmcs_guest_segment(GUEST_DS_SELECTOR, b->ds, data_ar);
	vmcs_guest_segment(GUEST_ES_SELECTOR, b->ds, data_ar);
	vmcs_guest_segment(GUEST_SS_SELECTOR, b->ds, data_ar);
	vmcs_guest_segment(GUEST_FS_SELECTOR, b->ds, data_ar);
	vmcs_guest_segment(GUEST_GS_SELECTOR, b->ds, data_ar);
	vmcs_write16(GUEST_LDTR_SELECTOR, 0);
	vmcs_write64(GUEST_LDTR_BASE, 0);
	vmcs_write32(GUEST_LDTR_LIMIT, 0);
	vmcs_write32(GUEST_LDTR_AR_BYTES, AR_UNUSABLE);
	vmcs_write16(GUEST_TR_SELECTOR, 0);
	vmcs_write64(GUEST_TR_BASE, 0);
	vmcs_write32(GUEST_TR_LIMIT, GUEST_TABLE_LIMIT);
	vmcs_write32(GUEST_TR_AR_BYTES, AR_TYPE_TSS_BUSY_32 | AR_P);
	vmcs_write64(GUEST_GDTR_BASE, b->gdt_base);
	vmcs_write32(GUEST_GDTR_LIMIT, b->gdt_limit);
	/* An empty IDT: until the guest loads its own, any exception ends in a triple fault. */
	vmcs_write64(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, 0);
	vmcs_write64(GUEST_DR7, DR7_RESET);
	vmcs_write64(GUEST_RSP, 0);
	vmcs_write64(GUEST_RIP, b->rip);
	vmcs_write64(GUEST_RFLAGS, RFLAGS_RESERVED1);
	vmcs_write64(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_write64(GUEST_SYSENTER_ESP, 0);
	vmcs_write64(GUEST_SYSENTER_EIP, 0);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write64(GUEST_IA32_PAT, GUEST_PAT_DEFAULT);
	vmcs_write64(GUEST_IA32_EFER, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write64(VMCS_LINK_POINTER, VMCS_LINK_NONE);
	vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, 0);
}

int vmcs_create(struct vcpu *v)
{
	uint64_t errors = vmcs_error_count();
	int rc;

	v->arch.vmcs_pa = frames_alloc(FRAME_SIZE, FRAME_SIZE);
	if (!v->arch.vmcs_pa)
		return HV_ENOMEM;
	*(uint32_t *)(uintptr_t)v->arch.vmcs_pa = caps.revision;
	if (vmclear(v->arch.vmcs_pa) || vmptrld(v->arch.vmcs_pa))
		return HV_EIO;
	current_vmcs_pa = v->arch.vmcs_pa;
	rc = vmcs_controls(v);
	if (rc)
		return rc;
	vmcs_host_state();
	vmcs_guest_state(&v->vm->boot);
	return vmcs_error_count() == errors ? HV_OK : HV_EIO;
}

void vmcs_destroy(struct vcpu *v)
{
	uint64_t pa = v->arch.vmcs_pa;

	if (!pa)
		return;
	/* SDM 24.11.1: VMCLEAR before the region's memory is used for anything else. */
	if (vmclear(pa))
		log_err("vmx", "%s: VMCLEAR of %#llx failed", v->name, (unsigned long long)pa);
	if (current_vmcs_pa == pa)
		current_vmcs_pa = 0;
	if (frames_free(pa, FRAME_SIZE))
		log_err("vmx", "%s: VMCS at %#llx not given back", v->name, (unsigned long long)pa);
	v->arch.vmcs_pa = 0;
	v->arch.launched = false;
}

int vmcs_load(struct vcpu *v)
{
	if (current_vmcs_pa == v->arch.vmcs_pa)
		return HV_OK;
	if (vmptrld(v->arch.vmcs_pa))
		return HV_EIO;
	current_vmcs_pa = v->arch.vmcs_pa;
	return HV_OK;
}

/*
 * The real VM-exit dispatcher and handlers (kernel/arch/x86/vmx/exit.c, exits/) run
 * against a fake VMCS (tests/unit/fake/): each test sets the fields an exit
 * leaves, dispatches, and checks what the next VM entry would find.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/arch/x86/guest_paging.h"
#include "kernel/arch/x86/hw/cpuid.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/vmx/debug.h"
#include "kernel/arch/x86/vmx/event.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/irq.h"
#include "kernel/arch/x86/vmx/vmsr.h"
#include "kernel/arch/x86/vmx/tsc.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/err.h"
#include "kernel/vmm/vm.h"
#include "tests/unit/fake/fake_env.h"
#include "tests/unit/fake/fake_vmcs.h"
#include "tests/unit/check_run.h"

#define GUEST_RIP_AT 0x1000u
#define UNCLAIMED_PORT 0x80u
#define INSN_LEN 3u
#define EXIT_VMCS_PA 0x200000u /* the exiting vCPU's VMCS */

static struct vm vm;
static struct vcpu *v;

static uint32_t event_info(uint32_t type, uint32_t vector, bool error_code)
{
	return INTR_INFO_VALID | (type << INTR_INFO_TYPE_SHIFT) | vector | (error_code ? INTR_INFO_ERROR_CODE_VALID : 0);
}

/* A field of the current VMCS as the CPU leaves it at an exit (not a write by the code). */
static void cpu_set(uint32_t field, uint64_t value) { fake_vmcs_set(fake_vmx.current_pa, field, value); }

/* A fresh VM of vcpus vCPUs, and the VMCS as the CPU leaves it at an exit of vCPU id, current. */
static void exit_at(unsigned vcpus, unsigned id, uint32_t reason, uint64_t qualification)
{
	fake_hw_reset();
	fake_env_reset();
	memset(&vm, 0, sizeof(vm));
	vm.state = VM_RUNNING;
	vm.vcpu_count = vcpus;
	vm.dev.pic.chip[0].initialized = true; /* the guest set up its PIC, as Linux does */
	v = &vm.vcpus[id];
	v->vm = &vm;
	v->id = id;
	strcpy(v->name, "vm0/vcpuN");
	v->arch.vmcs_pa = EXIT_VMCS_PA;
	ck_assert_int_eq(vmptrld(v->arch.vmcs_pa), 0);
	cpu_set(VM_EXIT_REASON, reason);
	cpu_set(EXIT_QUALIFICATION, qualification);
	cpu_set(VM_EXIT_INSTRUCTION_LEN, INSN_LEN);
	cpu_set(GUEST_RIP, GUEST_RIP_AT);
	cpu_set(GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_IF);
}

static uint64_t vmcs(uint32_t field) { return fake_vmcs_get(fake_vmx.current_pa, field); }
static bool written(uint32_t field) { return fake_vmcs_written(fake_vmx.current_pa, field); }

/* --- events interrupted by an exit -------------------------------------------------------------- */

START_TEST(test_db_interrupted_by_ept_violation_goes_in_again)
{
	exit_at(1, 0, EXIT_REASON_EPT_VIOLATION, EPT_QUAL_WRITE);
	cpu_set(IDT_VECTORING_INFO_FIELD, event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_DB, false));
	fake_env.wp_fault_result = true;

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(fake_env.wp_faults, 1);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_DB, false));
	ck_assert(!written(VM_ENTRY_EXCEPTION_ERROR_CODE));
	ck_assert(!written(VM_ENTRY_INSTRUCTION_LEN));
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT); /* the trap's instruction is done: RIP stays */
	ck_assert_uint_eq(v->arch.events_reinjected, 1);
}
END_TEST

START_TEST(test_software_exception_goes_in_again_with_its_length)
{
	exit_at(1, 0, EXIT_REASON_EPT_VIOLATION, EPT_QUAL_WRITE);
	cpu_set(VM_EXIT_INSTRUCTION_LEN, 1);
	cpu_set(IDT_VECTORING_INFO_FIELD, event_info(INTR_TYPE_SOFT_EXCEPTION, X86_VEC_BP, false));
	fake_env.wp_fault_result = true;

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_SOFT_EXCEPTION, X86_VEC_BP, false));
	ck_assert(written(VM_ENTRY_INSTRUCTION_LEN));
	ck_assert_uint_eq(vmcs(VM_ENTRY_INSTRUCTION_LEN), 1);
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT); /* still at INT3: the injection pushes RIP + 1 */
}
END_TEST

START_TEST(test_exception_with_error_code_interrupted_by_pml_full)
{
	exit_at(1, 0, EXIT_REASON_PML_FULL, 0);
	cpu_set(IDT_VECTORING_INFO_FIELD, event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_GP, true));
	cpu_set(IDT_VECTORING_ERROR_CODE, 0x18);

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(fake_env.pml_drains, 1);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_GP, true));
	ck_assert_uint_eq(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE), 0x18);
}
END_TEST

START_TEST(test_external_interrupt_and_nmi_go_in_again)
{
	static const uint32_t events[] = { INTR_TYPE_EXTERNAL << INTR_INFO_TYPE_SHIFT | 0x30,
					   INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT | X86_VEC_NMI };
	uint32_t e = INTR_INFO_VALID | events[_i];

	exit_at(1, 0, EXIT_REASON_EPT_VIOLATION, EPT_QUAL_WRITE | EPT_QUAL_NMI_UNBLOCKING);
	cpu_set(IDT_VECTORING_INFO_FIELD, e);
	fake_env.wp_fault_result = true;

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), e);
	/* Bit 12 means nothing during event delivery: NMIs are not blocked for it. */
	ck_assert_uint_eq(vmcs(GUEST_INTERRUPTIBILITY_INFO) & GUEST_INTR_STATE_NMI, 0);
}
END_TEST

START_TEST(test_no_event_no_injection)
{
	exit_at(1, 0, EXIT_REASON_EPT_VIOLATION, EPT_QUAL_WRITE);
	fake_env.wp_fault_result = true;

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert(!written(VM_ENTRY_INTR_INFO_FIELD));
	ck_assert(!written(GUEST_INTERRUPTIBILITY_INFO));
	ck_assert_uint_eq(v->arch.events_reinjected, 0);
}
END_TEST

START_TEST(test_stopped_vm_gets_no_injection)
{
	exit_at(1, 0, EXIT_REASON_EPT_VIOLATION, EPT_QUAL_WRITE);
	cpu_set(IDT_VECTORING_INFO_FIELD, event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_UD, false));
	fake_env.wp_fault_result = false; /* not a log-dirty fault: the VM stops */

	ck_assert_int_eq(exit_dispatch(v), EXIT_STOP_VM);
	ck_assert_str_ne(v->arch.stop_reason, "");
	ck_assert(!written(VM_ENTRY_INTR_INFO_FIELD));
}
END_TEST

/* --- NMI unblocking due to IRET ------------------------------------------------------------------ */

START_TEST(test_iret_interrupted_by_ept_violation_blocks_nmis_again)
{
	exit_at(1, 0, EXIT_REASON_EPT_VIOLATION, EPT_QUAL_WRITE | EPT_QUAL_NMI_UNBLOCKING);
	cpu_set(GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_STI);
	fake_env.wp_fault_result = true;

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(vmcs(GUEST_INTERRUPTIBILITY_INFO), GUEST_INTR_STATE_STI | GUEST_INTR_STATE_NMI);
	ck_assert(!written(VM_ENTRY_INTR_INFO_FIELD));
}
END_TEST

START_TEST(test_iret_interrupted_by_pml_full_blocks_nmis_again)
{
	exit_at(1, 0, EXIT_REASON_PML_FULL, PML_QUAL_NMI_UNBLOCKING);

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(vmcs(GUEST_INTERRUPTIBILITY_INFO), GUEST_INTR_STATE_NMI);
}
END_TEST

START_TEST(test_fixup_decisions)
{
	struct vmx_event none = { 0 };
	struct vmx_event ud = vmx_event_decode(event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_UD, false), 0, 0);
	struct vmx_entry_fixup f;

	/* An exception exit carries bit 12 in its interruption information, except for #DF. */
	f = vmx_entry_fixup(EXIT_REASON_EXCEPTION_NMI,
			    event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_GP, true) | INTR_INFO_NMI_UNBLOCKING, 0, &none);
	ck_assert(f.block_nmi && !f.inject.valid);
	f = vmx_entry_fixup(EXIT_REASON_EXCEPTION_NMI,
			    event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_DF, true) | INTR_INFO_NMI_UNBLOCKING, 0, &none);
	ck_assert(!f.block_nmi);
	/* Bit 12 of another reason's qualification means something else. */
	f = vmx_entry_fixup(EXIT_REASON_IO_INSTRUCTION, 0, EPT_QUAL_NMI_UNBLOCKING, &none);
	ck_assert(!f.block_nmi && !f.inject.valid);
	f = vmx_entry_fixup(EXIT_REASON_EPT_VIOLATION, 0, EPT_QUAL_NMI_UNBLOCKING, &ud);
	ck_assert(!f.block_nmi && f.inject.valid && f.inject.vector == X86_VEC_UD);
	ck_assert_uint_eq(vmx_event_encode(&f.inject), event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_UD, false));
	/* The length belongs to software events only. */
	ck_assert_uint_eq(ud.insn_len, 0);
	ck_assert_uint_eq(vmx_event_decode(event_info(INTR_TYPE_SOFT_INTR, 0x80, false), 0, 2).insn_len, 2);
	ck_assert_uint_eq(vmx_event_encode(&none), 0);
}
END_TEST

/* --- single-step over emulated instructions -------------------------------------------------------- */

START_TEST(test_tf_over_emulated_instruction_raises_db)
{
	exit_at(1, 0, EXIT_REASON_VMCALL, 0);
	cpu_set(GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_TF);

	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT + INSN_LEN);
	ck_assert_uint_eq(vmcs(GUEST_PENDING_DBG_EXCEPTIONS), PENDING_DBG_BS);
}
END_TEST

START_TEST(test_tf_keeps_pending_breakpoints_and_ends_the_shadow)
{
	exit_at(1, 0, EXIT_REASON_CPUID, 0);
	cpu_set(GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_TF | RFLAGS_RF);
	cpu_set(GUEST_INTERRUPTIBILITY_INFO, GUEST_INTR_STATE_MOV_SS);
	cpu_set(GUEST_PENDING_DBG_EXCEPTIONS, 1); /* B0: a data breakpoint on the MOV SS */

	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(vmcs(GUEST_PENDING_DBG_EXCEPTIONS), PENDING_DBG_BS | 1);
	ck_assert_uint_eq(vmcs(GUEST_INTERRUPTIBILITY_INFO), 0);
	ck_assert_uint_eq(vmcs(GUEST_RFLAGS), RFLAGS_RESERVED1 | RFLAGS_TF);
}
END_TEST

START_TEST(test_no_db_without_tf_or_with_btf)
{
	exit_at(1, 0, EXIT_REASON_CPUID, 0);
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert(!written(GUEST_PENDING_DBG_EXCEPTIONS));

	exit_at(1, 0, EXIT_REASON_CPUID, 0);
	cpu_set(GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_TF);
	cpu_set(GUEST_IA32_DEBUGCTL, DEBUGCTL_BTF); /* TF traps on branches only; CPUID is none */
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert(!written(GUEST_PENDING_DBG_EXCEPTIONS));
}
END_TEST

/* --- MOV CR8 ------------------------------------------------------------------------------------------ */

static uint64_t cr_qual(unsigned cr, unsigned access, unsigned gpr)
{
	return cr | (access << CR_QUAL_ACCESS_SHIFT) | ((uint64_t)gpr << CR_QUAL_GPR_SHIFT);
}

START_TEST(test_mov_to_cr8_sets_the_virtual_tpr)
{
	exit_at(1, 0, EXIT_REASON_CR_ACCESS, cr_qual(8, CR_ACCESS_MOV_TO_CR, 3 /* RBX */));
	v->arch.regs.rbx = 0xf;

	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(v->arch.tpr, 0xf);
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT + INSN_LEN);
	ck_assert_str_eq(v->arch.stop_reason, "");
}
END_TEST

START_TEST(test_mov_from_cr8_reads_it_into_any_register)
{
	exit_at(1, 0, EXIT_REASON_CR_ACCESS, cr_qual(8, CR_ACCESS_MOV_FROM_CR, 12 /* R12 */));
	v->arch.tpr = 9;
	v->arch.regs.r12 = 0xdeadbeefcafef00dull;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(v->arch.regs.r12, 9);

	exit_at(1, 0, EXIT_REASON_CR_ACCESS, cr_qual(8, CR_ACCESS_MOV_FROM_CR, 4 /* RSP, in the VMCS */));
	v->arch.tpr = 2;
	cpu_set(GUEST_RSP, 0x7000);
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(vmcs(GUEST_RSP), 2);

	exit_at(1, 0, EXIT_REASON_CR_ACCESS, cr_qual(8, CR_ACCESS_MOV_FROM_CR, 5 /* RBP, after RSP */));
	v->arch.tpr = 4;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(v->arch.regs.rbp, 4);
	ck_assert_uint_eq(v->arch.regs.rsi, 0);
}
END_TEST

START_TEST(test_mov_to_cr8_reserved_bits_raise_gp)
{
	exit_at(1, 0, EXIT_REASON_CR_ACCESS, cr_qual(8, CR_ACCESS_MOV_TO_CR, 0 /* RAX */));
	v->arch.tpr = 3;
	v->arch.regs.rax = 0x10;

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(v->arch.tpr, 3);
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_GP, true));
	ck_assert_uint_eq(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
}
END_TEST

START_TEST(test_other_cr_access_stops_the_vm)
{
	exit_at(1, 0, EXIT_REASON_CR_ACCESS, cr_qual(0, CR_ACCESS_CLTS, 0));
	ck_assert_int_eq(exit_dispatch(v), EXIT_STOP_VM);
	ck_assert_str_ne(v->arch.stop_reason, "");
	ck_assert_ptr_nonnull(strstr(v->arch.stop_reason, "CR0 access"));
}
END_TEST

static void fake_vmx_cpu(void);

/* An exit of a vCPU on a CPU whose VMX capabilities were read (CR0/CR4 fixed bits). */
static void exit_on_vmx_cpu(uint32_t reason, uint64_t qualification)
{
	char why[100] = "";

	fake_vmx_cpu();
	ck_assert_int_eq(vmx_init(why, sizeof(why)), 0);
	exit_at(1, 0, reason, qualification);
}

START_TEST(test_mov_to_cr0_is_emulated_with_its_shadow_and_long_mode)
{
	uint64_t value = CR0_PE | CR0_ET | CR0_WP | CR0_PG; /* NE clear: the guest reads it back clear */

	exit_on_vmx_cpu(EXIT_REASON_CR_ACCESS, cr_qual(0, CR_ACCESS_MOV_TO_CR, 3 /* RBX */));
	cpu_set(GUEST_CR0, CR0_PE | CR0_NE);
	cpu_set(GUEST_CR4, CR4_PAE | CR4_VMXE);
	cpu_set(GUEST_IA32_EFER, EFER_LME);
	v->arch.regs.rbx = value;

	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(vmcs(GUEST_CR0), value | CR0_NE);
	ck_assert_uint_eq(vmcs(CR0_READ_SHADOW), value);
	ck_assert_uint_eq(vmcs(GUEST_IA32_EFER), EFER_LME | EFER_LMA);
	ck_assert(vmcs(VM_ENTRY_CONTROLS) & VM_ENTRY_IA32E_MODE);
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT + INSN_LEN);
}
END_TEST

START_TEST(test_bad_cr0_and_cr4_writes_raise_gp)
{
	static const struct {
		unsigned cr;
		uint64_t value;
	} cases[] = {
		{ 0, CR0_PG | CR0_NE },          /* paging without protection */
		{ 0, CR0_PE | CR0_NW },          /* not-write-through without cache disable */
		{ 0, CR0_PE | (1ull << 40) },    /* reserved (64-bit mode) */
		{ 0, CR0_PE | CR0_PG },          /* long mode without PAE */
		{ 4, CR4_VMXE | CR4_PAE },       /* VMX is not offered */
		{ 4, CR4_OSXSAVE | CR4_PAE },    /* nor XSAVE */
	};

	exit_on_vmx_cpu(EXIT_REASON_CR_ACCESS, cr_qual(cases[_i].cr, CR_ACCESS_MOV_TO_CR, 0));
	cpu_set(GUEST_CR0, CR0_PE | CR0_NE);
	cpu_set(GUEST_IA32_EFER, EFER_LME);
	cpu_set(VM_ENTRY_CONTROLS, VM_ENTRY_IA32E_MODE);
	v->arch.regs.rax = cases[_i].value;

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_GP, true));
	ck_assert_uint_eq(vmcs(GUEST_CR0), CR0_PE | CR0_NE);
	ck_assert(!written(CR0_READ_SHADOW) && !written(CR4_READ_SHADOW));
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT);
}
END_TEST

START_TEST(test_mov_to_cr4_keeps_vmxe_hidden)
{
	exit_on_vmx_cpu(EXIT_REASON_CR_ACCESS, cr_qual(4, CR_ACCESS_MOV_TO_CR, 0));
	v->arch.regs.rax = CR4_PAE | CR4_OSFXSR;

	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(vmcs(GUEST_CR4), CR4_PAE | CR4_OSFXSR | CR4_VMXE);
	ck_assert_uint_eq(vmcs(CR4_READ_SHADOW), CR4_PAE | CR4_OSFXSR);
}
END_TEST

/* --- port I/O ------------------------------------------------------------------------------------------ */

static uint64_t io_qual(uint16_t port, unsigned size, bool in)
{
	return ((uint64_t)port << IO_QUAL_PORT_SHIFT) | (size - 1) | (in ? IO_QUAL_IN : 0);
}

START_TEST(test_in_sizes_write_rax_as_the_cpu_does)
{
	static const struct {
		uint16_t port;
		unsigned size;
		uint64_t rax;
	} cases[] = {
		{ UNCLAIMED_PORT, 4, 0x00000000ffffffffull }, /* EAX written: RAX[63:32] cleared */
		{ UNCLAIMED_PORT, 2, 0xdeadbeef1234ffffull }, /* AX only */
		{ UNCLAIMED_PORT, 1, 0xdeadbeef123456ffull }, /* AL only */
		{ FAKE_UART_PORT, 4, 0x0000000000000041ull },
		{ FAKE_UART_PORT, 1, 0xdeadbeef12345641ull },
	};

	exit_at(1, 0, EXIT_REASON_IO_INSTRUCTION, io_qual(cases[_i].port, cases[_i].size, true));
	v->arch.regs.rax = 0xdeadbeef12345678ull;
	fake_env.uart_in = 0x41;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(v->arch.regs.rax, cases[_i].rax);
}
END_TEST

START_TEST(test_out_leaves_rax)
{
	exit_at(1, 0, EXIT_REASON_IO_INSTRUCTION, io_qual(UNCLAIMED_PORT, 4, false));
	v->arch.regs.rax = 0xdeadbeef12345678ull;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(v->arch.regs.rax, 0xdeadbeef12345678ull);
}
END_TEST


/* String I/O against a RAM of its own: the exit as the CPU leaves it for INS or OUTS. */
#define STR_RAM_SIZE (64u * 1024u)
static uint8_t str_ram[STR_RAM_SIZE];

static void string_exit(uint16_t port, unsigned size, bool in, bool rep, unsigned addr_size, unsigned seg)
{
	uint64_t q = io_qual(port, size, in) | IO_QUAL_STRING | (rep ? IO_QUAL_REP : 0);
	unsigned i;

	exit_on_vmx_cpu(EXIT_REASON_IO_INSTRUCTION, q);
	memset(str_ram, 0, sizeof(str_ram));
	vm.ram_hpa = (uintptr_t)str_ram;
	vm.ram_size = STR_RAM_SIZE;
	cpu_set(VMX_INSTRUCTION_INFO, (addr_size << INSN_INFO_ADDR_SIZE_SHIFT) | (seg << INSN_INFO_SEG_SHIFT));
	cpu_set(GUEST_CR0, CR0_PE | CR0_NE); /* 32-bit protected mode, paging off, flat 4 GiB segments */
	for (i = 0; i < 6; i++) {
		cpu_set(GUEST_ES_LIMIT + 2 * i, 0xffffffff);
		cpu_set(GUEST_ES_AR_BYTES + 2 * i, AR_P | AR_S | AR_TYPE_DATA_RW_ACCESSED | AR_DB | AR_G);
	}
	cpu_set(GUEST_CS_AR_BYTES, AR_P | AR_S | AR_TYPE_CODE_XR_ACCESSED | AR_DB | AR_G);
}

START_TEST(test_rep_outsb_sends_the_string_from_its_segment)
{
	string_exit(FAKE_UART_PORT, 1, false, true, 1, 3 /* DS */);
	cpu_set(GUEST_DS_BASE, 0x1000);
	memcpy(str_ram + 0x1010, "hello", 5);
	v->arch.regs.rsi = 0xabcd000000000010ull; /* 32-bit addressing: the upper half is not part of it */
	v->arch.regs.rcx = 0x7777000000000005ull;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.uart_outs, 5);
	ck_assert_mem_eq(fake_env.uart_out, "hello", 5);
	ck_assert_uint_eq(v->arch.regs.rsi, 0x15);
	ck_assert_uint_eq(v->arch.regs.rcx, 0);
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT + INSN_LEN);
}
END_TEST

START_TEST(test_rep_insw_backwards_writes_guest_memory)
{
	string_exit(FAKE_UART_PORT, 2, true, true, 1, 0);
	cpu_set(GUEST_ES_BASE, 0x2000);
	cpu_set(GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_DF);
	fake_env.uart_in = 0x10, fake_env.uart_in_step = 1; /* the fake UART's 8 bits: words 0x0010, 0x0011, 0x0012 */
	v->arch.regs.rdi = 0x104;
	v->arch.regs.rcx = 3;
	vm.dirty.logging = true; /* a migration is on: what INS stores must reach the dirty log */
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(str_ram[0x2104], 0x10);
	ck_assert_uint_eq(str_ram[0x2102], 0x11);
	ck_assert_uint_eq(str_ram[0x2100], 0x12);
	ck_assert_uint_eq(str_ram[0x2105] | str_ram[0x2103] | str_ram[0x2101], 0);
	ck_assert_uint_eq(v->arch.regs.rdi, 0xfe);
	ck_assert_uint_eq(v->arch.regs.rcx, 0);
	ck_assert_uint_eq(fake_env.dirty_marks, 3); /* one per element stored */
	ck_assert_uint_eq(fake_env.dirty_pfn[0], 0x2);
}
END_TEST

/* The walker's flag updates: compare-and-exchange in guest RAM, into the dirty log when it replaced. */
START_TEST(test_guest_cmpxchg)
{
	uint64_t e = 0x9000 | 7, e2;

	string_exit(FAKE_UART_PORT, 1, false, false, 1, 3); /* RAM is str_ram */
	vm.dirty.logging = true;
	memcpy(str_ram + 0x4008, &e, 8);
	ck_assert_int_eq(vm_guest_cmpxchg(&vm, 0x4008, e | 0x20, e | 0x60, 8), 0); /* holds e, not e | A */
	ck_assert_uint_eq(fake_env.dirty_marks, 0);
	ck_assert_int_eq(vm_guest_cmpxchg(&vm, 0x4008, e, e | 0x60, 8), 1);
	memcpy(&e2, str_ram + 0x4008, 8);
	ck_assert_uint_eq(e2, e | 0x60);
	ck_assert_uint_eq(fake_env.dirty_marks, 1);
	ck_assert_uint_eq(fake_env.dirty_pfn[0], 0x4);
	/* 4 bytes: only they are compared and replaced. */
	ck_assert_int_eq(vm_guest_cmpxchg(&vm, 0x400c, 0xffffffff00000000ull, 0x11, 4), 1);
	memcpy(&e2, str_ram + 0x4008, 8);
	ck_assert_uint_eq(e2, (0x11ull << 32) | e | 0x60);
	ck_assert_int_eq(vm_guest_cmpxchg(&vm, 0x400a, 0, 1, 4), HV_EINVAL);
	ck_assert_int_eq(vm_guest_cmpxchg(&vm, 0x4008, 0, 1, 2), HV_EINVAL);
	ck_assert_int_eq(vm_guest_cmpxchg(&vm, STR_RAM_SIZE, 0, 1, 8), HV_ERANGE);
	ck_assert_uint_eq(fake_env.dirty_marks, 2);
}
END_TEST

START_TEST(test_long_rep_resumes_with_what_is_left)
{
	string_exit(UNCLAIMED_PORT, 1, true, true, 0, 0); /* 16-bit addressing */
	v->arch.regs.rdi = 0x5555000000000000ull | 0xff00; /* DI wraps at 64 KiB, the rest of RDI stays */
	v->arch.regs.rcx = 0x5555000000000000ull | 1000;
	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(v->arch.regs.rcx, 0x5555000000000000ull | (1000 - 256));
	ck_assert_uint_eq(v->arch.regs.rdi, 0x5555000000000000ull | 0x0000);
	ck_assert_uint_eq(str_ram[0xff00], 0xff); /* an unclaimed port floats high */
	ck_assert_uint_eq(str_ram[0xffff], 0xff);
	ck_assert_uint_eq(str_ram[0xfeff], 0);
	ck_assert(!written(GUEST_RIP)); /* the instruction runs again for the rest */
}
END_TEST

START_TEST(test_outs_wraps_at_4_gib_outside_64_bit_mode)
{
	string_exit(FAKE_UART_PORT, 1, false, false, 1, 3);
	cpu_set(GUEST_DS_BASE, 0xffffff00);
	str_ram[0x10] = 'Z';
	v->arch.regs.rsi = 0x110; /* linear 0x1_00000010: 32 bits wide, so 0x10 */
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.uart_outs, 1);
	ck_assert_uint_eq(fake_env.uart_out[0], 'Z');
	ck_assert_uint_eq(v->arch.regs.rsi, 0x111);
}
END_TEST

START_TEST(test_rep_with_zero_count_does_nothing)
{
	string_exit(FAKE_UART_PORT, 1, false, true, 1, 3);
	v->arch.regs.rsi = 0x10;
	v->arch.regs.rcx = 0xffffffff00000000ull; /* ECX is 0 */
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.uart_accesses, 0);
	ck_assert_uint_eq(v->arch.regs.rsi, 0x10);
}
END_TEST

START_TEST(test_ins_to_an_absent_page_faults_before_the_port_is_read)
{
	/* 64-bit mode, 4-level paging: la 0x400000 maps to 0x9000 through tables at 0x1000-0x4000; 0x401000 absent. */
	string_exit(FAKE_UART_PORT, 4, true, true, 2, 0);
	cpu_set(GUEST_CR0, CR0_PE | CR0_NE | CR0_PG | CR0_WP);
	cpu_set(GUEST_CR3, 0x1000);
	cpu_set(GUEST_CR4, CR4_PAE | CR4_VMXE);
	cpu_set(GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	cpu_set(GUEST_CS_AR_BYTES, AR_P | AR_S | AR_TYPE_CODE_XR_ACCESSED | AR_L);
	cpu_set(GUEST_ES_BASE, 0x12345000); /* ignored in 64-bit mode */
	*(uint64_t *)(void *)(str_ram + 0x1000) = 0x2000 | 7;
	*(uint64_t *)(void *)(str_ram + 0x2000) = 0x3000 | 7;
	*(uint64_t *)(void *)(str_ram + 0x3000 + 8 * 2) = 0x4000 | 7;
	*(uint64_t *)(void *)(str_ram + 0x4000) = 0x9000 | 7;
	fake_env.uart_in = 0x41;
	v->arch.regs.rdi = 0x400ff8; /* two dwords fit, the third crosses into the absent page */
	v->arch.regs.rcx = 5;
	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(fake_env.uart_accesses, 2);
	ck_assert_uint_eq(*(uint32_t *)(void *)(str_ram + 0x9ff8), 0x41);
	ck_assert_uint_eq(*(uint32_t *)(void *)(str_ram + 0x9ffc), 0x41);
	ck_assert_uint_eq(v->arch.regs.rdi, 0x401000);
	ck_assert_uint_eq(v->arch.regs.rcx, 3);
	ck_assert_uint_eq(v->arch.regs.cr2, 0x401000);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_PF, true));
	ck_assert_uint_eq(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE), GPT_PF_W);
	/* The walk set the accessed and dirty flags as the CPU would. */
	ck_assert_uint_eq(*(uint64_t *)(void *)(str_ram + 0x4000), 0x9000 | 7 | 0x60);
}
END_TEST

/* A fault the string instruction takes before its next element: vector, error code 0, the port untouched. */
static void assert_segment_fault(unsigned vector, unsigned port_accesses)
{
	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_HARD_EXCEPTION, vector, true));
	ck_assert_uint_eq(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
	ck_assert_uint_eq(fake_env.uart_accesses, port_accesses);
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT); /* the instruction is not done */
}

/* Outside 64-bit mode each element's offset is checked against its segment before paging. */
START_TEST(test_string_io_within_the_segment_limit)
{
	/* REP INSW into ES limited to 0x1fff: the element at 0x1ffe fits, the next one faults. */
	string_exit(FAKE_UART_PORT, 2, true, true, 1, 0);
	cpu_set(GUEST_ES_LIMIT, 0x1fff);
	fake_env.uart_in = 0x41;
	v->arch.regs.rdi = 0x1ffe;
	v->arch.regs.rcx = 3;
	assert_segment_fault(X86_VEC_GP, 1);
	ck_assert_uint_eq(str_ram[0x1ffe], 0x41);
	ck_assert_uint_eq(str_ram[0x2000], 0);
	ck_assert_uint_eq(v->arch.regs.rdi, 0x2000);
	ck_assert_uint_eq(v->arch.regs.rcx, 2);

	/* OUTSW with an SS override, a word across SS's limit: #SS(0). */
	string_exit(FAKE_UART_PORT, 2, false, false, 1, 2 /* SS */);
	cpu_set(GUEST_SS_LIMIT, 0xfff);
	v->arch.regs.rsi = 0xfff;
	assert_segment_fault(X86_VEC_SS, 0);
	ck_assert_uint_eq(v->arch.regs.rsi, 0xfff);

	/* 16-bit addressing, a 64 KiB segment: a word at offset 0xffff runs past it. */
	string_exit(FAKE_UART_PORT, 2, false, false, 0, 3 /* DS */);
	cpu_set(GUEST_DS_LIMIT, 0xffff);
	v->arch.regs.rsi = 0xffff;
	assert_segment_fault(X86_VEC_GP, 0);
}
END_TEST

START_TEST(test_string_io_segment_type_and_usability)
{
	/* An expand-down DS above limit 0xfff: offset 0xffe is outside it, 0x1000 inside. */
	string_exit(FAKE_UART_PORT, 1, false, false, 1, 3);
	cpu_set(GUEST_DS_LIMIT, 0xfff);
	cpu_set(GUEST_DS_AR_BYTES, AR_P | AR_S | AR_TYPE_DATA_RW_ACCESSED | AR_TYPE_DATA_E | AR_DB);
	v->arch.regs.rsi = 0xffe;
	assert_segment_fault(X86_VEC_GP, 0);
	v->arch.regs.rsi = 0x1000;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.uart_outs, 1);

	/* INS into a read-only ES: #GP before the port is read. */
	string_exit(FAKE_UART_PORT, 1, true, false, 1, 0);
	cpu_set(GUEST_ES_AR_BYTES, AR_P | AR_S | (AR_TYPE_DATA_RW_ACCESSED & ~AR_TYPE_DATA_W) | AR_DB | AR_G);
	assert_segment_fault(X86_VEC_GP, 0);

	/* OUTS from an execute-only code segment (CS override), and from an unusable DS. */
	string_exit(FAKE_UART_PORT, 1, false, false, 1, 1 /* CS */);
	cpu_set(GUEST_CS_LIMIT, 0xffffffff);
	cpu_set(GUEST_CS_AR_BYTES, AR_P | AR_S | (AR_TYPE_CODE_XR_ACCESSED & ~AR_TYPE_CODE_R) | AR_DB | AR_G);
	assert_segment_fault(X86_VEC_GP, 0);
	cpu_set(GUEST_CS_AR_BYTES, AR_P | AR_S | AR_TYPE_CODE_XR_ACCESSED | AR_DB | AR_G); /* readable: goes */
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	string_exit(FAKE_UART_PORT, 1, false, false, 1, 3);
	cpu_set(GUEST_DS_AR_BYTES, AR_UNUSABLE);
	assert_segment_fault(X86_VEC_GP, 0);
}
END_TEST

/* SMAP: INS at CPL 0 into a user page faults unless RFLAGS.AC is set (STAC), as on the CPU. */
START_TEST(test_ins_honours_smap)
{
	string_exit(FAKE_UART_PORT, 1, true, false, 1, 0);
	cpu_set(GUEST_CR0, CR0_PE | CR0_NE | CR0_PG);
	cpu_set(GUEST_CR3, 0x1000);
	cpu_set(GUEST_CR4, CR4_PAE | CR4_VMXE | CR4_SMAP);
	*(uint64_t *)(void *)(str_ram + 0x1000) = 0x2000 | 1; /* PDPTE 0: present, no access rights */
	*(uint64_t *)(void *)(str_ram + 0x2000) = 0x3000 | 7; /* PD[0] */
	*(uint64_t *)(void *)(str_ram + 0x3000 + 8 * 5) = 0x9000 | 7; /* la 0x5000 -> 0x9000, user */
	fake_env.uart_in = 0x41;
	v->arch.regs.rdi = 0x5010;
	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_PF, true));
	ck_assert_uint_eq(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE), GPT_PF_P | GPT_PF_W);
	ck_assert_uint_eq(v->arch.regs.cr2, 0x5010);
	ck_assert_uint_eq(fake_env.uart_accesses, 0);
	ck_assert_uint_eq(str_ram[0x9010], 0);
	cpu_set(VM_ENTRY_INTR_INFO_FIELD, 0);
	cpu_set(GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_AC);
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(str_ram[0x9010], 0x41);
}
END_TEST

START_TEST(test_outs_outside_ram_stops_the_vm)
{
	string_exit(FAKE_UART_PORT, 1, false, false, 1, 3);
	cpu_set(GUEST_DS_BASE, STR_RAM_SIZE);
	ck_assert_int_eq(exit_dispatch(v), EXIT_STOP_VM);
	ck_assert_uint_eq(fake_env.uart_accesses, 0);
}
END_TEST

/* A triple-fault exit under IA-32e paging, tables from 0x1000; cs_mode: AR_L for 64-bit code, AR_DB for 32-bit. */
static void triple_fault_ia32e(uint32_t cs_mode)
{
	string_exit(FAKE_UART_PORT, 1, false, false, 1, 3);
	cpu_set(VM_EXIT_REASON, EXIT_REASON_TRIPLE_FAULT);
	cpu_set(GUEST_CR0, CR0_PE | CR0_NE | CR0_PG);
	cpu_set(GUEST_CR3, 0x1000);
	cpu_set(GUEST_CR4, CR4_PAE | CR4_VMXE);
	cpu_set(GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	cpu_set(GUEST_CS_AR_BYTES, AR_P | AR_S | AR_TYPE_CODE_XR_ACCESSED | cs_mode);
}

START_TEST(test_stopping_dump_shows_the_bytes_at_rip_without_touching_the_guest)
{
	static const uint8_t ud2_nop[] = { 0x0f, 0x0b, 0x90 };

	/* 32-bit protected mode, paging off: CS base 0x1000, RIP 0x10, the instruction 12 bytes before the end of RAM. */
	string_exit(FAKE_UART_PORT, 1, false, false, 1, 3);
	cpu_set(VM_EXIT_REASON, EXIT_REASON_TRIPLE_FAULT);
	cpu_set(GUEST_CS_BASE, STR_RAM_SIZE - 0x1000);
	cpu_set(GUEST_RIP, 0x1000 - 3);
	memcpy(str_ram + STR_RAM_SIZE - 3, ud2_nop, sizeof(ud2_nop));
	ck_assert_int_eq(exit_dispatch(v), EXIT_STOP_VM);
	ck_assert_msg(strstr(fake_env.error_text, "bytes at rip: 0f 0b 90\n"), "%s", fake_env.error_text);

	/* 4-level paging, RIP on an absent page: nothing read, nothing in the tables changed. */
	triple_fault_ia32e(AR_L);
	*(uint64_t *)(void *)(str_ram + 0x1000) = 0x2000 | 7;
	*(uint64_t *)(void *)(str_ram + 0x2000) = 0x3000 | 7;
	*(uint64_t *)(void *)(str_ram + 0x3000) = 0x4000 | 7;
	*(uint64_t *)(void *)(str_ram + 0x4000) = 0x9000 | 7; /* la 0 -> 0x9000; la 0x1000 absent */
	memcpy(str_ram + 0x9ffe, ud2_nop, 2);
	cpu_set(GUEST_RIP, 0xffe); /* two bytes readable, then the absent page */
	ck_assert_int_eq(exit_dispatch(v), EXIT_STOP_VM);
	ck_assert_msg(strstr(fake_env.error_text, "bytes at rip: 0f 0b\n"), "%s", fake_env.error_text);
	ck_assert_uint_eq(*(uint64_t *)(void *)(str_ram + 0x4000), 0x9000 | 7); /* no accessed flag set */
	cpu_set(GUEST_RIP, 0x1000);
	fake_env.error_text[0] = 0;
	ck_assert_int_eq(exit_dispatch(v), EXIT_STOP_VM);
	ck_assert_msg(strstr(fake_env.error_text, "bytes at rip: none readable"), "%s", fake_env.error_text);
}
END_TEST

/* Compatibility mode (IA-32e paging, CS.L clear): the bytes at RIP wrap from 4 GiB - 1 to 0, as a fetch does. */
START_TEST(test_stopping_dump_wraps_at_4gib_in_compatibility_mode)
{
	triple_fault_ia32e(AR_DB);
	*(uint64_t *)(void *)(str_ram + 0x1000) = 0x2000 | 7;          /* PML4[0] */
	*(uint64_t *)(void *)(str_ram + 0x2000 + 8 * 3) = 0x3000 | 7;  /* PDPT[3]: 3-4 GiB */
	*(uint64_t *)(void *)(str_ram + 0x3000 + 8 * 511) = 0x4000 | 7;
	*(uint64_t *)(void *)(str_ram + 0x4000 + 8 * 511) = 0x9000 | 7; /* la 0xfffff000 -> 0x9000 */
	*(uint64_t *)(void *)(str_ram + 0x2000) = 0x5000 | 7;          /* PDPT[0]: 0-1 GiB */
	*(uint64_t *)(void *)(str_ram + 0x5000) = 0x6000 | 7;
	*(uint64_t *)(void *)(str_ram + 0x6000) = 0xa000 | 7;          /* la 0 -> 0xa000 */
	str_ram[0x9ffe] = 0x0f;
	str_ram[0x9fff] = 0x0b;
	str_ram[0xa000] = 0x90;
	str_ram[0xa001] = 0xcc;
	cpu_set(GUEST_CS_BASE, 0xfffff000);
	cpu_set(GUEST_RIP, 0xffe);
	ck_assert_int_eq(exit_dispatch(v), EXIT_STOP_VM);
	ck_assert_msg(strstr(fake_env.error_text, "bytes at rip: 0f 0b 90 cc 00"), "%s", fake_env.error_text);
}
END_TEST

/* --- MSRs ---------------------------------------------------------------------------------------------- */

static enum exit_action msr_access(uint32_t reason, uint32_t msr, uint64_t value)
{
	exit_at(1, 0, reason, 0);
	vmsr_reset(&v->arch.msrs, true);
	v->arch.regs.rcx = msr;
	v->arch.regs.rax = value & 0xffffffffull;
	v->arch.regs.rdx = value >> 32;
	return exit_dispatch(v);
}

static void assert_gp(void)
{
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_GP, true));
	ck_assert_uint_eq(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT);
	ck_assert_str_eq(v->arch.stop_reason, "");
}

START_TEST(test_unknown_msr_raises_gp_and_the_vm_runs_on)
{
	ck_assert_int_eq(msr_access(EXIT_REASON_MSR_READ, 0x12345, 0xdeadbeefcafeull), EXIT_RESUME);
	assert_gp();
	ck_assert_uint_eq(v->arch.regs.rax, 0xbeefcafe); /* registers untouched */
	ck_assert_uint_eq(v->arch.msr_gp, 1);
	ck_assert_int_eq(msr_access(EXIT_REASON_MSR_WRITE, MSR_IA32_FEATURE_CONTROL, 1), EXIT_RESUME);
	assert_gp();
}
END_TEST

START_TEST(test_msr_reads)
{
	static const struct {
		uint32_t msr;
		uint64_t value;
	} cases[] = {
		{ MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT | APIC_BASE_BSP },
		{ MSR_IA32_MTRRCAP, VMSR_MTRR_VAR | MTRRCAP_FIX | MTRRCAP_WC },
		{ MSR_IA32_MTRR_DEF_TYPE, MTRR_DEF_TYPE_E | MTRR_TYPE_WB },
		{ MSR_IA32_MCG_CAP, VMSR_MC_BANKS },
		{ MSR_IA32_MC0_STATUS, 0 },
		{ MSR_IA32_BIOS_SIGN_ID, 0 },
		{ MSR_IA32_ARCH_CAPABILITIES, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL },
	};

	ck_assert_int_eq(msr_access(EXIT_REASON_MSR_READ, cases[_i].msr, 0xffffffffffffffffull), EXIT_SKIP_INSN);
	ck_assert_uint_eq(v->arch.regs.rax, cases[_i].value & 0xffffffffull);
	ck_assert_uint_eq(v->arch.regs.rdx, cases[_i].value >> 32);
	ck_assert_uint_eq(vmcs(GUEST_RIP), GUEST_RIP_AT + INSN_LEN);
}
END_TEST

START_TEST(test_msr_writes_that_take)
{
	ck_assert_int_eq(msr_access(EXIT_REASON_MSR_WRITE, MSR_IA32_EFER, EFER_SCE | EFER_LME | EFER_NXE), EXIT_SKIP_INSN);
	ck_assert_uint_eq(vmcs(GUEST_IA32_EFER), EFER_SCE | EFER_LME | EFER_NXE);
	ck_assert_int_eq(msr_access(EXIT_REASON_MSR_WRITE, MSR_IA32_PAT, 0x0007010600070106ull), EXIT_SKIP_INSN);
	ck_assert_uint_eq(vmcs(GUEST_IA32_PAT), 0x0007010600070106ull);
	/* A TSC write moves the offset: the host's TSC runs on. */
	exit_at(1, 0, EXIT_REASON_MSR_WRITE, 0);
	fake_hw.tsc = 1000;
	v->arch.regs.rcx = MSR_IA32_TSC;
	v->arch.regs.rax = 5000;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(vmcs(TSC_OFFSET), 4000);
	/* Stored MSRs read back what was written. */
	ck_assert_int_eq(msr_access(EXIT_REASON_MSR_WRITE, MSR_IA32_MTRR_PHYSBASE0 + 3, 0xabc000ull), EXIT_SKIP_INSN);
	ck_assert_uint_eq(v->arch.msrs.mtrr_var[3], 0xabc000ull);
	ck_assert_int_eq(msr_access(EXIT_REASON_MSR_WRITE, MSR_IA32_SPEC_CTRL, SPEC_CTRL_IBRS), EXIT_SKIP_INSN);
	ck_assert_uint_eq(v->arch.msrs.spec_ctrl, SPEC_CTRL_IBRS);
}
END_TEST

START_TEST(test_msr_writes_refused)
{
	static const struct {
		uint32_t msr;
		uint64_t value;
	} cases[] = {
		{ MSR_IA32_EFER, 1ull << 20 },                 /* reserved bit */
		{ MSR_IA32_PAT, 0x0007040600070402ull },       /* type 2 is reserved */
		{ MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT | APIC_BASE_BSP | APIC_BASE_ENABLE }, /* no APIC to enable */
		{ MSR_IA32_MISC_ENABLE, 1ull << 34 },          /* XD disable may not change */
		{ MSR_IA32_MTRRCAP, 0 },                       /* read-only */
		{ MSR_IA32_ARCH_CAPABILITIES, 0 },
		{ MSR_IA32_MC0_STATUS, 1 },                    /* may only be cleared */
		{ MSR_IA32_SPEC_CTRL, 1ull << 7 },
	};

	ck_assert_int_eq(msr_access(EXIT_REASON_MSR_WRITE, cases[_i].msr, cases[_i].value), EXIT_RESUME);
	assert_gp();
}
END_TEST

START_TEST(test_msr_bitmap_passes_through_only_the_switched_msrs)
{
	static uint8_t bm[VMSR_BITMAP_SIZE];

	vmsr_bitmap_build(bm);
	ck_assert(!vmsr_bitmap_exits(bm, MSR_IA32_LSTAR, false) && !vmsr_bitmap_exits(bm, MSR_IA32_LSTAR, true));
	ck_assert(!vmsr_bitmap_exits(bm, MSR_IA32_KERNEL_GS_BASE, true));
	ck_assert(!vmsr_bitmap_exits(bm, MSR_IA32_SYSENTER_EIP, true));
	ck_assert(!vmsr_bitmap_exits(bm, MSR_IA32_TSC, false) && vmsr_bitmap_exits(bm, MSR_IA32_TSC, true));
	ck_assert(vmsr_bitmap_exits(bm, MSR_IA32_EFER, false) && vmsr_bitmap_exits(bm, MSR_IA32_EFER, true));
	ck_assert(vmsr_bitmap_exits(bm, MSR_IA32_PAT, true));
	ck_assert(vmsr_bitmap_exits(bm, MSR_IA32_FEATURE_CONTROL, false));
	ck_assert(vmsr_bitmap_exits(bm, 0x40000000u, false)); /* outside both ranges */
	ck_assert(vmsr_bitmap_exits(bm, 0xc0001fffu, true));
}
END_TEST

START_TEST(test_syscall_msrs_switch_per_vcpu)
{
	struct vcpu *a = &vm.vcpus[0], *b = &vm.vcpus[1];

	exit_at(2, 0, EXIT_REASON_MSR_READ, 0);
	vmsr_reset(&a->arch.msrs, true);
	vmsr_reset(&b->arch.msrs, false);
	a->arch.msrs.lstar = 0xaaaa;
	b->arch.msrs.lstar = 0xbbbb;
	vmsr_switch_to(a);
	ck_assert_uint_eq(rdmsr(MSR_IA32_LSTAR), 0xaaaa);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, 0x1234); /* the guest wrote it (passed through) */
	vmsr_switch_to(b);
	ck_assert_uint_eq(rdmsr(MSR_IA32_LSTAR), 0xbbbb);
	ck_assert_uint_eq(a->arch.msrs.kernel_gs_base, 0x1234);
	vmsr_switch_to(a);
	ck_assert_uint_eq(rdmsr(MSR_IA32_KERNEL_GS_BASE), 0x1234);
	ck_assert_uint_eq(b->arch.msrs.apic_base & APIC_BASE_BSP, 0);
	vmsr_disown(a);
	vmsr_disown(b);
}
END_TEST

/* --- interrupts and HLT ---------------------------------------------------------------------------------- */

START_TEST(test_interrupt_injected_when_the_guest_can_take_it)
{
	exit_at(1, 0, EXIT_REASON_HLT, 0);
	fake_env.irq_pending = true;
	fake_env.irq_vector = 0x30;
	vmx_irq_prepare(v, 0);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), event_info(INTR_TYPE_EXTERNAL, 0x30, false));
	ck_assert_uint_eq(fake_env.irq_acks, 1);
	ck_assert_uint_eq(v->arch.irqs_injected, 1);
	ck_assert(!(vmcs(CPU_BASED_VM_EXEC_CONTROL) & CPU_BASED_INTR_WINDOW_EXITING));
}
END_TEST

START_TEST(test_interrupt_waits_for_the_window)
{
	static const struct {
		uint64_t rflags;
		uint32_t interruptibility;
		uint32_t entry_event;
	} cases[] = {
		{ RFLAGS_RESERVED1, 0, 0 },                          /* IF clear */
		{ RFLAGS_RESERVED1 | RFLAGS_IF, GUEST_INTR_STATE_STI, 0 }, /* right after STI */
		{ RFLAGS_RESERVED1 | RFLAGS_IF, GUEST_INTR_STATE_MOV_SS, 0 },
		{ RFLAGS_RESERVED1 | RFLAGS_IF, 0, INTR_INFO_VALID | X86_VEC_GP }, /* an event goes in already */
	};

	exit_at(1, 0, EXIT_REASON_HLT, 0);
	cpu_set(GUEST_RFLAGS, cases[_i].rflags);
	cpu_set(GUEST_INTERRUPTIBILITY_INFO, cases[_i].interruptibility);
	cpu_set(VM_ENTRY_INTR_INFO_FIELD, cases[_i].entry_event);
	fake_env.irq_pending = true;
	vmx_irq_prepare(v, 0);
	ck_assert_uint_eq(fake_env.irq_acks, 0);
	ck_assert_uint_eq(vmcs(VM_ENTRY_INTR_INFO_FIELD), cases[_i].entry_event);
	ck_assert(vmcs(CPU_BASED_VM_EXEC_CONTROL) & CPU_BASED_INTR_WINDOW_EXITING);
	/* The window opens: the exit resumes, and the next entry delivers it. */
	cpu_set(VM_EXIT_REASON, EXIT_REASON_INTERRUPT_WINDOW);
	cpu_set(GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_IF);
	cpu_set(GUEST_INTERRUPTIBILITY_INFO, 0);
	cpu_set(VM_ENTRY_INTR_INFO_FIELD, 0);
	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	vmx_irq_prepare(v, 0);
	ck_assert_uint_eq(fake_env.irq_acks, 1);
	ck_assert(!(vmcs(CPU_BASED_VM_EXEC_CONTROL) & CPU_BASED_INTR_WINDOW_EXITING));
}
END_TEST

START_TEST(test_no_interrupt_before_the_pic_is_set_up)
{
	exit_at(1, 0, EXIT_REASON_HLT, 0);
	vm.dev.pic.chip[0].initialized = false;
	fake_env.irq_pending = true;
	vmx_irq_prepare(v, 0);
	ck_assert_uint_eq(fake_env.irq_acks + fake_env.dev_updates, 0);
	ck_assert(!written(VM_ENTRY_INTR_INFO_FIELD) && !written(CPU_BASED_VM_EXEC_CONTROL));
}
END_TEST

START_TEST(test_only_the_boot_vcpu_gets_device_interrupts)
{
	exit_at(2, 1, EXIT_REASON_HLT, 0);
	fake_env.irq_pending = true;
	vmx_irq_prepare(v, 0);
	ck_assert_uint_eq(fake_env.irq_acks, 0);
	ck_assert(!written(VM_ENTRY_INTR_INFO_FIELD));
}
END_TEST

START_TEST(test_hlt_sleeps_until_the_next_device_interrupt)
{
	exit_at(1, 0, EXIT_REASON_HLT, 0);
	fake_env.now = 1000;
	fake_env.next_event = 90000;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.blocked_until, 90000);
	/* Nothing ahead: a millisecond (the test guest's convention). */
	exit_at(1, 0, EXIT_REASON_HLT, 0);
	fake_env.now = 1000;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.blocked_until, 1000 + 1000);
	/* An interrupt already pending: no sleep at all. */
	exit_at(1, 0, EXIT_REASON_HLT, 0);
	fake_env.irq_pending = true;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.blocked_until, 0);
}
END_TEST

/* The devices keep the guest's time; the vCPU sleeps until this host's TSC shows the guest's deadline. */
START_TEST(test_hlt_deadline_on_the_guest_clock)
{
	exit_at(1, 0, EXIT_REASON_HLT, 0);
	v->arch.tsc_offset = 5000; /* the guest's clock reads 5000 ticks ahead of this host's */
	fake_env.now = 1000;
	fake_env.next_event = 90000;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.dev_update_now, 6000);
	ck_assert_uint_eq(fake_env.blocked_until, 1000 + 90000 - 6000);
	/* Behind this host's: later. A deadline the guest's clock has passed: no wait at all. */
	exit_at(1, 0, EXIT_REASON_HLT, 0);
	v->arch.tsc_offset = (uint64_t)-500;
	fake_env.now = 1000;
	fake_env.next_event = 90000;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.blocked_until, 1000 + 90000 - 500);
	exit_at(1, 0, EXIT_REASON_HLT, 0);
	v->arch.tsc_offset = 100000;
	fake_env.now = 1000;
	fake_env.next_event = 90000;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.blocked_until, 1000);
}
END_TEST

/* --- NMIs ------------------------------------------------------------------------------------------------ */

START_TEST(test_nmi_exit_runs_the_host_handler)
{
	exit_at(1, 0, EXIT_REASON_EXCEPTION_NMI, 0);
	cpu_set(VM_EXIT_INTR_INFO, event_info(INTR_TYPE_NMI, X86_VEC_NMI, false));

	ck_assert_int_eq(exit_dispatch(v), EXIT_RESUME);
	ck_assert_uint_eq(fake_hw.nmis_raised, 1);
	ck_assert_uint_eq(v->arch.host_nmis, 1);
	ck_assert_str_eq(v->arch.stop_reason, "");
	ck_assert(!written(VM_ENTRY_INTR_INFO_FIELD)); /* the guest never sees the host's NMI */
}
END_TEST

START_TEST(test_guest_exception_exit_stops_the_vm)
{
	exit_at(1, 0, EXIT_REASON_EXCEPTION_NMI, 0);
	cpu_set(VM_EXIT_INTR_INFO, event_info(INTR_TYPE_HARD_EXCEPTION, X86_VEC_UD, false));

	ck_assert_int_eq(exit_dispatch(v), EXIT_STOP_VM);
	ck_assert_uint_eq(fake_hw.nmis_raised, 0);
}
END_TEST

/* --- CPUID through the handler ----------------------------------------------------------------------------- */

/* A host that sets every feature bit and reports deep leaf ranges. */
static struct cpuid_regs host_all_features(uint32_t leaf, uint32_t subleaf)
{
	(void)subleaf;
	if (leaf == CPUID_LEAF_VENDOR)
		return (struct cpuid_regs){ 0x16, 0x756e6547, 0x6c65746e, 0x49656e69 };
	if (leaf == CPUID_LEAF_EXT_MAX)
		return (struct cpuid_regs){ 0x80000008, 0, 0, 0 };
	return (struct cpuid_regs){ ~0u, ~0u, ~0u, ~0u };
}

static struct cpuid_regs guest_cpuid(unsigned vcpus, unsigned id, uint32_t leaf, uint32_t subleaf)
{
	exit_at(vcpus, id, EXIT_REASON_CPUID, 0);
	fake_hw.cpuid = host_all_features;
	v->arch.regs.rax = 0xffffffff00000000ull | leaf;
	v->arch.regs.rcx = subleaf;
	v->arch.regs.rbx = v->arch.regs.rdx = ~0ull;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(v->arch.regs.rax >> 32, 0);
	ck_assert_uint_eq(v->arch.regs.rbx >> 32, 0);
	return (struct cpuid_regs){ (uint32_t)v->arch.regs.rax, (uint32_t)v->arch.regs.rbx, (uint32_t)v->arch.regs.rcx,
				    (uint32_t)v->arch.regs.rdx };
}

/* A sleep's deadline is the guest's TSC: after a migration it runs at an offset from this host's. */
START_TEST(test_sleep_deadline_on_the_guest_clock)
{
	exit_at(1, 0, EXIT_REASON_VMCALL, 0);
	cpu_set(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_USE_TSC_OFFSETTING);
	vmx_tsc_offset_set(v, 3000); /* the guest's clock reads 3000 ticks ahead of this host's (0) */
	v->arch.regs.rax = HV_HC_SLEEP_UNTIL;
	v->arch.regs.rbx = 5000;
	v->arch.regs.rcx = 0;
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.blocked_until, 2000);
	/* A deadline the guest's clock has passed: no sleep. */
	fake_env.blocked_until = 0;
	vmx_tsc_offset_set(v, 8000);
	ck_assert_int_eq(exit_dispatch(v), EXIT_SKIP_INSN);
	ck_assert_uint_eq(fake_env.blocked_until, 0);
}
END_TEST

START_TEST(test_cpuid_exit_applies_the_policy_per_vcpu)
{
	struct cpuid_regs r = guest_cpuid(3, 2, CPUID_LEAF_FEATURES, 0);

	ck_assert_uint_eq(r.ebx >> CPUID_1_EBX_APIC_ID_SHIFT, 2);
	ck_assert_uint_eq(r.ecx & (CPUID_1_ECX_VMX | CPUID_1_ECX_MONITOR | CPUID_1_ECX_XSAVE), 0);
	ck_assert(r.ecx & CPUID_1_ECX_HYPERVISOR);
	r = guest_cpuid(3, 1, CPUID_LEAF_TOPOLOGY, 1);
	ck_assert_uint_eq(r.edx, 1);
	ck_assert_uint_eq(r.ebx, 3);
	r = guest_cpuid(3, 1, CPUID_LEAF_EXT_FEATURES_1, 0);
	ck_assert_uint_eq(r.edx & CPUID_80000001_EDX_RDTSCP, 0);
	r = guest_cpuid(1, 0, CPUID_LEAF_PMU, 0);
	ck_assert_uint_eq(r.eax | r.ebx | r.ecx | r.edx, 0);
}
END_TEST

/* --- debug registers ---------------------------------------------------------------------------------------- */

START_TEST(test_debug_registers_switch_and_come_back)
{
	struct vcpu_debug guest = { .dr = { 0x1000, 0x2000, 0, 0x4000 }, .dr6 = DR6_RESET | 1 }, host;

	fake_hw_reset();
	fake_hw.dr[0] = 0x11, fake_hw.dr[1] = 0x22, fake_hw.dr[2] = 0, fake_hw.dr[3] = 0x44;
	fake_hw.dr[6] = DR6_RESET;

	vmx_debug_switch(&host, &guest);
	ck_assert_uint_eq(fake_hw.dr[0], 0x1000);
	ck_assert_uint_eq(fake_hw.dr[1], 0x2000);
	ck_assert_uint_eq(fake_hw.dr[3], 0x4000);
	ck_assert_uint_eq(fake_hw.dr[6], DR6_RESET | 1);
	ck_assert_uint_eq(fake_hw.dr_writes, 4); /* DR2 was equal: not written */

	/* The guest changes DR1 and DR6 while it runs; leaving saves them and puts the host's back. */
	fake_hw.dr[1] = 0x2222;
	fake_hw.dr[6] = DR6_RESET | 2;
	vmx_debug_switch(&guest, &host);
	ck_assert_uint_eq(guest.dr[1], 0x2222);
	ck_assert_uint_eq(guest.dr6, DR6_RESET | 2);
	ck_assert_uint_eq(fake_hw.dr[0], 0x11);
	ck_assert_uint_eq(fake_hw.dr[1], 0x22);
	ck_assert_uint_eq(fake_hw.dr[3], 0x44);
	ck_assert_uint_eq(fake_hw.dr[6], DR6_RESET);
}
END_TEST

/* --- the VMCS a vCPU starts with ------------------------------------------------------------------------------ */

/* A CPU like Bochs' (docs: testbed): TRUE controls that force nothing on and allow everything. */
static void fake_vmx_cpu(void)
{
	fake_hw_vmx_cpu();
	fake_env_reset();
	fake_hw.cpuid = host_all_features;
}

START_TEST(test_vmcs_requests_cr8_exits_and_debug_controls)
{
	char why[100] = "";

	fake_vmx_cpu();
	ck_assert_int_eq(vmx_init(why, sizeof(why)), 0);
	memset(&vm, 0, sizeof(vm));
	v = &vm.vcpus[0];
	v->vm = &vm;
	ck_assert_int_eq(vmcs_create(v), 0);
	ck_assert_uint_eq(fake_env.log_errors, 0);
	ck_assert_uint_eq(vmcs(CPU_BASED_VM_EXEC_CONTROL) & (CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING),
			  CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING);
	ck_assert(vmcs(VM_ENTRY_CONTROLS) & VM_ENTRY_LOAD_DEBUG_CONTROLS);
	ck_assert(vmcs(VM_EXIT_CONTROLS) & VM_EXIT_SAVE_DEBUG_CONTROLS);
	ck_assert_uint_eq(vmcs(GUEST_DR7), DR7_RESET);
	ck_assert(written(GUEST_IA32_DEBUGCTL));
	ck_assert_uint_eq(vmcs(GUEST_PENDING_DBG_EXCEPTIONS), 0);
	/* A guest's MOV that would set CR4.OSXSAVE exits: XCR0 is the host's while it runs. */
	ck_assert_uint_eq(vmcs(CR4_GUEST_HOST_MASK) & (CR4_VMXE | CR4_OSXSAVE), CR4_VMXE | CR4_OSXSAVE);
	ck_assert_uint_eq(vmcs(CR4_READ_SHADOW) & CR4_OSXSAVE, 0);
}
END_TEST

static Suite *vmx_exits_suite(void)
{
	Suite *s = suite_create("vmx_exits");
	TCase *ev = tcase_create("events"), *dbg = tcase_create("single-step"), *cr = tcase_create("cr8");
	TCase *io = tcase_create("io"), *misc = tcase_create("nmi-cpuid-dr");
	TCase *msr = tcase_create("msr"), *irq = tcase_create("irq-hlt");

	tcase_add_test(ev, test_db_interrupted_by_ept_violation_goes_in_again);
	tcase_add_test(ev, test_software_exception_goes_in_again_with_its_length);
	tcase_add_test(ev, test_exception_with_error_code_interrupted_by_pml_full);
	tcase_add_loop_test(ev, test_external_interrupt_and_nmi_go_in_again, 0, 2);
	tcase_add_test(ev, test_no_event_no_injection);
	tcase_add_test(ev, test_stopped_vm_gets_no_injection);
	tcase_add_test(ev, test_iret_interrupted_by_ept_violation_blocks_nmis_again);
	tcase_add_test(ev, test_iret_interrupted_by_pml_full_blocks_nmis_again);
	tcase_add_test(ev, test_fixup_decisions);
	suite_add_tcase(s, ev);
	tcase_add_test(dbg, test_tf_over_emulated_instruction_raises_db);
	tcase_add_test(dbg, test_tf_keeps_pending_breakpoints_and_ends_the_shadow);
	tcase_add_test(dbg, test_no_db_without_tf_or_with_btf);
	suite_add_tcase(s, dbg);
	tcase_add_test(cr, test_mov_to_cr8_sets_the_virtual_tpr);
	tcase_add_test(cr, test_mov_from_cr8_reads_it_into_any_register);
	tcase_add_test(cr, test_mov_to_cr8_reserved_bits_raise_gp);
	tcase_add_test(cr, test_other_cr_access_stops_the_vm);
	tcase_add_test(cr, test_mov_to_cr0_is_emulated_with_its_shadow_and_long_mode);
	tcase_add_loop_test(cr, test_bad_cr0_and_cr4_writes_raise_gp, 0, 6);
	tcase_add_test(cr, test_mov_to_cr4_keeps_vmxe_hidden);
	suite_add_tcase(s, cr);
	tcase_add_loop_test(io, test_in_sizes_write_rax_as_the_cpu_does, 0, 5);
	tcase_add_test(io, test_out_leaves_rax);
	tcase_add_test(io, test_rep_outsb_sends_the_string_from_its_segment);
	tcase_add_test(io, test_rep_insw_backwards_writes_guest_memory);
	tcase_add_test(io, test_long_rep_resumes_with_what_is_left);
	tcase_add_test(io, test_rep_with_zero_count_does_nothing);
	tcase_add_test(io, test_outs_wraps_at_4_gib_outside_64_bit_mode);
	tcase_add_test(io, test_ins_to_an_absent_page_faults_before_the_port_is_read);
	tcase_add_test(io, test_outs_outside_ram_stops_the_vm);
	tcase_add_test(io, test_stopping_dump_shows_the_bytes_at_rip_without_touching_the_guest);
	tcase_add_test(io, test_string_io_within_the_segment_limit);
	tcase_add_test(io, test_string_io_segment_type_and_usability);
	tcase_add_test(io, test_ins_honours_smap);
	tcase_add_test(io, test_stopping_dump_wraps_at_4gib_in_compatibility_mode);
	tcase_add_test(io, test_guest_cmpxchg);
	suite_add_tcase(s, io);
	tcase_add_test(msr, test_unknown_msr_raises_gp_and_the_vm_runs_on);
	tcase_add_loop_test(msr, test_msr_reads, 0, 8);
	tcase_add_test(msr, test_msr_writes_that_take);
	tcase_add_loop_test(msr, test_msr_writes_refused, 0, 8);
	tcase_add_test(msr, test_msr_bitmap_passes_through_only_the_switched_msrs);
	tcase_add_test(msr, test_syscall_msrs_switch_per_vcpu);
	suite_add_tcase(s, msr);
	tcase_add_test(irq, test_interrupt_injected_when_the_guest_can_take_it);
	tcase_add_loop_test(irq, test_interrupt_waits_for_the_window, 0, 4);
	tcase_add_test(irq, test_only_the_boot_vcpu_gets_device_interrupts);
	tcase_add_test(irq, test_no_interrupt_before_the_pic_is_set_up);
	tcase_add_test(irq, test_hlt_sleeps_until_the_next_device_interrupt);
	tcase_add_test(irq, test_hlt_deadline_on_the_guest_clock);
	suite_add_tcase(s, irq);
	tcase_add_test(misc, test_nmi_exit_runs_the_host_handler);
	tcase_add_test(misc, test_guest_exception_exit_stops_the_vm);
	tcase_add_test(misc, test_cpuid_exit_applies_the_policy_per_vcpu);
	tcase_add_test(misc, test_sleep_deadline_on_the_guest_clock);
	tcase_add_test(misc, test_debug_registers_switch_and_come_back);
	tcase_add_test(misc, test_vmcs_requests_cr8_exits_and_debug_controls);
	suite_add_tcase(s, misc);
	return s;
}

int main(void)
{
	return check_run(vmx_exits_suite());
}

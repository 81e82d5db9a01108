/*
 * Events in the VMCS's interruption-information format, and the pure
 * decisions about them an exit leaves to the next VM entry: re-injecting an
 * event whose delivery the exit interrupted (SDM 28.2.4, 27.6), restoring
 * the NMI blocking an interrupted IRET had lifted (SDM 28.2.3), and the
 * single-step trap of an instruction the hypervisor emulated.
 */
#ifndef HV_KERNEL_ARCH_X86_VMX_EVENT_H
#define HV_KERNEL_ARCH_X86_VMX_EVENT_H

#include <stdbool.h>
#include <stdint.h>

struct vmx_event {
	bool valid;
	uint8_t vector;
	uint8_t type;           /* INTR_TYPE_* */
	bool has_error_code;
	uint32_t error_code;
	uint32_t insn_len;      /* software interrupts and exceptions: the length of INT n, INT3, INTO, INT1 */
};

/* Decodes an interruption-information field with its error code and instruction length. */
struct vmx_event vmx_event_decode(uint32_t info, uint32_t error_code, uint32_t insn_len);

/* The VM-entry interruption-information field that injects e (0 if e is not valid). */
uint32_t vmx_event_encode(const struct vmx_event *e);

/* True for the types whose injection needs VM_ENTRY_INSTRUCTION_LEN. */
bool vmx_event_is_software(const struct vmx_event *e);

/* What the next VM entry must do because of this exit. */
struct vmx_entry_fixup {
	struct vmx_event inject; /* valid: deliver this event on entry */
	bool block_nmi;          /* set blocking by NMI in the interruptibility state */
};

/*
 * From the exit's basic reason, its exit interruption information and
 * qualification, and its IDT-vectoring information: an event whose delivery
 * the exit interrupted is re-injected as it was; otherwise, when the exit
 * says an IRET that unblocked NMIs did not complete, NMIs are blocked again.
 */
struct vmx_entry_fixup vmx_entry_fixup(uint32_t reason, uint32_t exit_intr_info, uint64_t qualification,
				       const struct vmx_event *vectoring);

/* Whether exits of this basic reason carry the "NMI unblocking due to IRET" bit. */
bool vmx_exit_reports_nmi_unblocking(uint32_t reason);

/*
 * Whether an emulated instruction ends in a single-step trap: RFLAGS.TF was
 * set when it began, and IA32_DEBUGCTL.BTF (which limits TF to branches) is
 * clear; the instructions the hypervisor emulates are not branches.
 */
bool vmx_single_step_due(uint64_t rflags, uint64_t debugctl);

#endif

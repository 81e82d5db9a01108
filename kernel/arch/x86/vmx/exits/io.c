/*
 * Port I/O: decoded into an access, then given to the device that claims the
 * port (kernel/vmm/vdev.h) at the guest's time. String I/O (INS, OUTS, with
 * or without REP) moves each element between the port and guest memory,
 * through the guest's own paging.
 */
#include <string.h>
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/caps.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/guest_view.h"
#include "kernel/arch/x86/vmx/tsc.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define IO_FLOATING_BUS 0xffffffffu

struct io_access {
	uint16_t port;
	unsigned size;   /* 1, 2 or 4 bytes */
	bool in;
	bool string;
};

static struct io_access io_decode(uint64_t q)
{
	return (struct io_access){
		.port = (uint16_t)(q >> IO_QUAL_PORT_SHIFT),
		.size = (unsigned)(q & IO_QUAL_SIZE_MASK) + 1,
		.in = q & IO_QUAL_IN,
		.string = q & IO_QUAL_STRING,
	};
}

/*
 * RAX after an IN of size bytes read value: a 1- or 2-byte IN replaces AL or
 * AX and keeps the rest; a 4-byte IN writes EAX, which in 64-bit mode clears
 * RAX[63:32] (SDM 3.4.1.1); outside it the upper half is not visible.
 */
static uint64_t io_in_result(uint64_t rax, unsigned size, uint32_t value)
{
	uint64_t mask = (1ull << (8 * size)) - 1;

	if (size == sizeof(uint32_t))
		return value;
	return (rax & ~mask) | (value & mask);
}

/* One access to the device that claims the port; an unclaimed one floats high or vanishes. */
static uint32_t io_port(struct vcpu *v, const struct io_access *io, uint32_t value)
{
	if (!vdev_io(v->vm, v->id, vmx_guest_tsc(v, time_now()), io->port, io->size, io->in, &value)) {
		log_debug("io", "%s: %s of %u bytes at unclaimed port %#x", v->name, io->in ? "read" : "write", io->size,
			  io->port);
		value = IO_FLOATING_BUS; /* no device: reads float high, writes vanish, as on an empty ISA bus */
	}
	return value;
}

/*
 * Iterations of a REP string instruction per exit: the rest runs after the
 * next entry (RIP stays, RCX says what is left), so interrupts and the
 * scheduler get in between, as the CPU lets interrupts in between iterations.
 */
#define STRING_IO_BURST 256u

/* A string instruction's view of the guest: its paging, its address size, its segment. */
struct string_io {
	struct gpt_cpu cpu;
	struct gpt_mem mem;
	unsigned access;    /* GPT_USER at CPL 3, GPT_WRITE for INS, GPT_SMAP where SMAP forbids user pages */
	unsigned addr_size; /* INSN_INFO address-size code */
	uint64_t base;      /* the segment's base as this mode uses it */
	uint32_t limit, ar; /* the segment's limit in bytes and its access rights (VMCS format) */
	bool is_ss;         /* a fault of the segment is #SS, not #GP */
	bool long_mode;     /* 64-bit mode: linear addresses are 64-bit */
};

static uint64_t addr_mask(unsigned addr_size)
{
	return addr_size == 0 ? 0xffffull : addr_size == 1 ? 0xffffffffull : ~0ull;
}

/* A register the instruction updates at its address size: 16 bits merge, 32 bits zero-extend. */
static uint64_t reg_update(uint64_t old, uint64_t value, unsigned addr_size)
{
	return addr_size == 0 ? (old & ~0xffffull) | (value & 0xffff) : value & addr_mask(addr_size);
}

static struct string_io string_io_view(struct vcpu *v, const struct io_access *io)
{
	uint32_t info = vmcs_read32(VMX_INSTRUCTION_INFO);
	unsigned seg = io->in ? INSN_INFO_SEG_ES : (info >> INSN_INFO_SEG_SHIFT) & INSN_INFO_SEG_MASK;
	uint32_t ss_ar = vmcs_read32(GUEST_SS_AR_BYTES);
	struct string_io s = {
		.cpu = vmx_guest_paging(),
		.mem = vmx_guest_ram(v->vm),
		.access = (((ss_ar >> AR_DPL_SHIFT) & AR_DPL_MASK) == 3 ? GPT_USER : 0) | (io->in ? GPT_WRITE : 0),
		.addr_size = (info >> INSN_INFO_ADDR_SIZE_SHIFT) & INSN_INFO_ADDR_SIZE_MASK,
	};

	/* INS and OUTS make explicit data accesses: SMAP applies at CPL 0-2 unless RFLAGS.AC allows them. */
	if (!(s.access & GPT_USER) && (s.cpu.cr4 & CR4_SMAP) && !(vmcs_read64(GUEST_RFLAGS) & RFLAGS_AC))
		s.access |= GPT_SMAP;
	s.long_mode = vmx_guest_64bit(&s.cpu);
	/* In 64-bit mode ES, CS, SS and DS have base 0; FS and GS keep theirs. */
	s.base = s.long_mode && seg < INSN_INFO_SEG_FS ? 0 : vmcs_read64(GUEST_ES_BASE + 2 * seg);
	s.limit = vmcs_read32(GUEST_ES_LIMIT + 2 * seg);
	s.ar = vmcs_read32(GUEST_ES_AR_BYTES + 2 * seg);
	s.is_ss = seg == INSN_INFO_SEG_SS;
	return s;
}

/*
 * Outside 64-bit mode the element's offset must lie within its segment, which
 * must be usable and allow the access: INS writes to ES (a writable data
 * segment), OUTS reads (data, or readable code). An expand-down data segment
 * holds the offsets above its limit, up to 64 KiB or 4 GiB by its B flag
 * (SDM Vol. 3A, 5.3). The CPU checks this before paging; a violation is
 * #SS(0) for SS and #GP(0) for the others.
 */
static bool segment_allows(const struct string_io *s, uint64_t ea, unsigned size, bool write)
{
	uint32_t type = s->ar & AR_TYPE_MASK;
	uint64_t last = ea + size - 1, top = s->ar & AR_DB ? 0xffffffffull : 0xffffull;

	if (s->long_mode)
		return true;
	if (s->ar & AR_UNUSABLE)
		return false;
	if (type & AR_TYPE_CODE) {
		if (write || !(type & AR_TYPE_CODE_R))
			return false;
	} else if (write && !(type & AR_TYPE_DATA_W)) {
		return false;
	}
	if (!(type & AR_TYPE_CODE) && (type & AR_TYPE_DATA_E))
		return ea > s->limit && last <= top;
	return last <= s->limit;
}

/*
 * The guest-physical pieces of one element at la: one, or two where it
 * crosses a page. GPT_OK, GPT_FAULT (*fault_la is where), GPT_GP,
 * GPT_RETRY, or an HV_E* error when a page table lies outside RAM.
 */
static int element_pieces(struct string_io *s, uint64_t la, unsigned size, uint64_t gpa[2], unsigned *first,
			  uint64_t *fault_la, uint32_t *pf_error)
{
	uint64_t last = s->long_mode ? la + size - 1 : (uint32_t)(la + size - 1);
	int rc;

	*first = size;
	*fault_la = la;
	rc = gpt_translate(&s->cpu, &s->mem, la, s->access, &gpa[0], pf_error);
	if (rc != GPT_OK || (la >> 12) == (last >> 12))
		return rc;
	*first = (unsigned)(0x1000 - (la & 0xfff));
	*fault_la = last & ~0xfffull;
	return gpt_translate(&s->cpu, &s->mem, *fault_la, s->access, &gpa[1], pf_error);
}

static enum exit_action exit_io_string(struct vcpu *v, const struct io_access *io)
{
	struct string_io s;
	bool rep = v->arch.exit.qualification & IO_QUAL_REP;
	uint64_t *reg = io->in ? &v->arch.regs.rdi : &v->arch.regs.rsi, count, ea, la, fault_la, gpa[2];
	uint32_t pf_error = 0, value;
	uint8_t bytes[4];
	unsigned first, done;
	int step = vmcs_read64(GUEST_RFLAGS) & RFLAGS_DF ? -(int)io->size : (int)io->size, rc;

	if (!vmx_get_caps()->ins_outs_info) {
		exit_dump_guest(v);
		return exit_stop(v, "%s: string I/O (port %#x): this CPU does not say its address size", v->name,
				 io->port);
	}
	s = string_io_view(v, io);
	count = rep ? v->arch.regs.rcx & addr_mask(s.addr_size) : 1;
	for (done = 0; count && done < STRING_IO_BURST; done++) {
		ea = *reg & addr_mask(s.addr_size); /* the offset in the segment */
		if (!segment_allows(&s, ea, io->size, io->in)) {
			exit_inject_exception(s.is_ss ? X86_VEC_SS : X86_VEC_GP, true, 0);
			return EXIT_RESUME; /* as after a page fault: RCX, RSI, RDI say which elements are done */
		}
		la = s.base + ea;
		if (!s.long_mode)
			la = (uint32_t)la;
		rc = element_pieces(&s, la, io->size, gpa, &first, &fault_la, &pf_error);
		if (rc == GPT_FAULT) {
			v->arch.regs.cr2 = fault_la;
			exit_inject_exception(X86_VEC_PF, true, pf_error);
			return EXIT_RESUME; /* RCX, RSI, RDI say which iterations are done, as after the CPU's fault */
		}
		if (rc == GPT_GP) {
			exit_inject_exception(X86_VEC_GP, true, 0);
			return EXIT_RESUME;
		}
		if (rc == GPT_RETRY)
			return EXIT_RESUME; /* a table changed under the walk: the instruction runs again from here */
		if (rc == HV_OK && !io->in && (vm_guest_read(v->vm, gpa[0], bytes, first) ||
					       (first < io->size && vm_guest_read(v->vm, gpa[1], bytes + first, io->size - first))))
			rc = HV_ERANGE;
		if (rc == HV_OK && io->in) {
			value = io_port(v, io, 0);
			memcpy(bytes, &value, io->size); /* x86 is little-endian: the low bytes go first */
			/* through the VM's one write path, which marks the pages dirty for a migration */
			if (vm_guest_write(v->vm, gpa[0], bytes, first) ||
			    (first < io->size && vm_guest_write(v->vm, gpa[1], bytes + first, io->size - first)))
				rc = HV_ERANGE;
		}
		if (rc != HV_OK) {
			exit_dump_guest(v);
			return exit_stop(v, "%s: string I/O (port %#x) at linear %#llx: memory or a page table outside guest RAM",
					 v->name, io->port, (unsigned long long)la);
		}
		if (!io->in) {
			value = 0;
			memcpy(&value, bytes, io->size);
			(void)io_port(v, io, value);
		}
		*reg = reg_update(*reg, *reg + (uint64_t)(int64_t)step, s.addr_size);
		count--;
		if (rep)
			v->arch.regs.rcx = reg_update(v->arch.regs.rcx, count, s.addr_size);
	}
	return count ? EXIT_RESUME : EXIT_SKIP_INSN;
}

enum exit_action exit_io(struct vcpu *v)
{
	struct io_access io = io_decode(v->arch.exit.qualification);

	if (io.string)
		return exit_io_string(v, &io);
	if (io.in)
		v->arch.regs.rax = io_in_result(v->arch.regs.rax, io.size, io_port(v, &io, 0));
	else
		(void)io_port(v, &io, (uint32_t)v->arch.regs.rax);
	return EXIT_SKIP_INSN;
}

/* Port I/O: decoded into an access, then given to the device that claims the port. */
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define IO_FLOATING_BUS 0xffffffffu /* what a read from a port without a device returns */

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

enum exit_action exit_io(struct vcpu *v)
{
	struct io_access io = io_decode(v->arch.exit.qualification);

	if (io.string) {
		exit_dump_guest(v);
		return exit_stop(v, "%s: string I/O (port %#x) is not emulated", v->name, io.port);
	}
	if (vuart_claims(&v->vm->console, io.port)) {
		uint8_t b = (uint8_t)v->arch.regs.rax;

		vuart_access(&v->vm->console, v->id, io.port, io.in, &b);
		if (io.in)
			v->arch.regs.rax = io_in_result(v->arch.regs.rax, io.size, b);
		return EXIT_SKIP_INSN;
	}
	/* No device there: reads float high, writes vanish, as on an empty ISA bus. */
	log_debug("io", "%s: %s of %u bytes at unclaimed port %#x", v->name, io.in ? "read" : "write", io.size,
		  io.port);
	if (io.in)
		v->arch.regs.rax = io_in_result(v->arch.regs.rax, io.size, IO_FLOATING_BUS);
	return EXIT_SKIP_INSN;
}

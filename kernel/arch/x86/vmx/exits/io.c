/* Port I/O: decoded into an access, then given to the device that claims the port. */
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/vmcs.h"

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

enum exit_action exit_io(struct vcpu *v)
{
	struct io_access io = io_decode(v->exit.qualification);
	uint64_t mask = io.size == 4 ? 0xffffffffull : (1ull << (8 * io.size)) - 1;

	if (io.string) {
		exit_dump_guest(v);
		vm_stop(v->vm, "%s: string I/O (port %#x) is not emulated", v->name, io.port);
		return EXIT_STOP_VM;
	}
	if (vuart_claims(&v->vm->console, io.port)) {
		uint8_t b = (uint8_t)v->regs.rax;

		vuart_access(&v->vm->console, v->id, io.port, io.in, &b);
		if (io.in)
			v->regs.rax = (v->regs.rax & ~mask) | b;
		return EXIT_SKIP_INSN;
	}
	/* No device there: reads float high, writes vanish, as on an empty ISA bus. */
	log_debug("io", "%s: %s of %u bytes at unclaimed port %#x", v->name, io.in ? "read" : "write", io.size,
		  io.port);
	if (io.in)
		v->regs.rax |= mask;
	return EXIT_SKIP_INSN;
}

/*
 * Port I/O: decoded into an access, then given to the device that claims the
 * port (kernel/vmm/vdev.h) at the guest's time.
 */
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/vmx/exit.h"
#include "kernel/arch/x86/vmx/tsc.h"
#include "kernel/arch/x86/vmx/vmcs.h"
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

enum exit_action exit_io(struct vcpu *v)
{
	struct io_access io = io_decode(v->arch.exit.qualification);
	uint32_t value = (uint32_t)v->arch.regs.rax;

	if (io.string) {
		exit_dump_guest(v);
		return exit_stop(v, "%s: string I/O (port %#x) is not emulated", v->name, io.port);
	}
	if (!vdev_io(v->vm, v->id, vmx_guest_tsc(v, time_now()), io.port, io.size, io.in, &value)) {
		log_debug("io", "%s: %s of %u bytes at unclaimed port %#x", v->name, io.in ? "read" : "write", io.size,
			  io.port);
		value = IO_FLOATING_BUS; /* no device: reads float high, writes vanish, as on an empty ISA bus */
	}
	if (io.in)
		v->arch.regs.rax = io_in_result(v->arch.regs.rax, io.size, value);
	return EXIT_SKIP_INSN;
}

#include "kernel/vmm/vdev.h"

#include "kernel/arch/x86/time.h"
#include "kernel/vmm/vm.h"

#define BYTE_MASK 0xffu

void vdev_reset(struct vm *vm, uint64_t now)
{
	vpic_reset(&vm->dev.pic);
	vpit_reset(&vm->dev.pit, time_tsc_hz());
	vrtc_reset(&vm->dev.rtc, now, time_tsc_hz());
	vm->dev.pit_irqs = vm->dev.pit_coalesced = 0;
}

static bool io_byte(struct vm *vm, unsigned vcpu, uint64_t now, uint16_t port, bool in, uint8_t *b)
{
	struct vdev *d = &vm->dev;

	if (vuart_claims(&vm->console, port)) {
		vuart_access(&vm->console, vcpu, now, port, in, b);
		/* Any access may raise or lower the UART's line. */
		vpic_set_irq(&d->pic, VUART_IRQ, vuart_irq(&vm->console));
	} else if (vpic_claims(port)) {
		vpic_io(&d->pic, port, in, b);
	} else if (vpit_claims(port)) {
		vpit_io(&d->pit, now, port, in, b);
	} else if (vrtc_claims(port)) {
		vrtc_io(&d->rtc, now, port, in, b);
	} else {
		return false;
	}
	return true;
}

bool vdev_io(struct vm *vm, unsigned vcpu, uint64_t now, uint16_t port, unsigned size, bool in, uint32_t *val)
{
	bool claimed = false;
	unsigned i;

	for (i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(*val >> (8 * i));

		if (!io_byte(vm, vcpu, now, (uint16_t)(port + i), in, &b))
			b = (uint8_t)BYTE_MASK; /* no device: the bus floats high */
		else
			claimed = true;
		if (in)
			*val = (*val & ~(BYTE_MASK << (8 * i))) | (uint32_t)b << (8 * i);
	}
	return claimed;
}

void vdev_update(struct vm *vm, uint64_t now)
{
	struct vdev *d = &vm->dev;
	unsigned due = vpit_update(&d->pit, now);

	if (due) {
		/* One edge however many periods passed: the PIC holds one request per line. */
		d->pit_irqs++;
		d->pit_coalesced += due - 1 + ((d->pic.chip[0].irr & (1u << VDEV_IRQ_PIT)) ? 1 : 0);
		vpic_set_irq(&d->pic, VDEV_IRQ_PIT, true);
		vpic_set_irq(&d->pic, VDEV_IRQ_PIT, false);
	}
}

bool vdev_irq_pending(const struct vm *vm) { return vpic_pending(&vm->dev.pic); }

uint8_t vdev_irq_ack(struct vm *vm) { return vpic_ack(&vm->dev.pic); }

bool vdev_console_input(struct vm *vm, uint8_t byte)
{
	bool taken = vuart_receive(&vm->console, byte);

	vpic_set_irq(&vm->dev.pic, VUART_IRQ, vuart_irq(&vm->console));
	return taken;
}

uint64_t vdev_next_event(const struct vm *vm) { return vpit_next_irq(&vm->dev.pit); }

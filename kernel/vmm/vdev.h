/*
 * A VM's legacy PC devices and how they reach its vCPUs: port I/O goes to
 * the device that claims the port, interrupt lines go to the 8259 pair,
 * whose output is the boot vCPU's INTR line. Every device is a plain struct
 * (kernel/vmm/vpic.h, vpit.h, vrtc.h, vuart.h) saved and loaded whole.
 * Knows nothing of VT-x: the architecture asks whether an interrupt is
 * pending, acknowledges it, and asks when the next timer interrupt falls due.
 * Every "now" and deadline here is the guest's TSC, not the host's: the
 * devices' state then means the same on any host the VM moves to, whose
 * TSC offset continues the guest's clock.
 */
#ifndef HV_KERNEL_VMM_VDEV_H
#define HV_KERNEL_VMM_VDEV_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/vmm/vpic.h"
#include "kernel/vmm/vpit.h"
#include "kernel/vmm/vrtc.h"

#define VDEV_IRQ_PIT 0
#define VDEV_NEVER UINT64_MAX

struct vm;

struct vdev {
	struct vpic pic;
	struct vpit pit;
	struct vrtc rtc;
	uint64_t pit_irqs;      /* timer interrupts raised */
	uint64_t pit_coalesced; /* timer interrupts that fell due while one was still waiting */
};

/* Every device to its power-on state at TSC now. */
void vdev_reset(struct vm *vm, uint64_t now);

/*
 * A port access of size bytes (1, 2, 4: consecutive byte ports) by vCPU
 * vcpu at now. Returns false when no device claims the port (the caller
 * lets it float); reads return their value in *val.
 */
bool vdev_io(struct vm *vm, unsigned vcpu, uint64_t now, uint16_t port, unsigned size, bool in, uint32_t *val);

/* Whether any interrupt can reach the CPU: not before the guest has initialised its master PIC. */
static inline bool vdev_irqs_on(const struct vdev *d) { return d->pic.chip[0].initialized; }

/* Brings the interrupt lines up to date at now (timer interrupts that fell due, the UART's level). */
void vdev_update(struct vm *vm, uint64_t now);

/* The boot vCPU's INTR line, and the acknowledge that takes the vector (only after vdev_irq_pending). */
bool vdev_irq_pending(const struct vm *vm);
uint8_t vdev_irq_ack(struct vm *vm);

/* A byte typed at the console for the guest's UART; false when its FIFO is full (the caller keeps it). */
bool vdev_console_input(struct vm *vm, uint8_t byte);

/* TSC at which the next device interrupt falls due; VDEV_NEVER when none will by itself. */
uint64_t vdev_next_event(const struct vm *vm);

#endif

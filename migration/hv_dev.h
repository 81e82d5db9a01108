/*
 * The VM's emulated devices (kernel/vmm/vdev.h, vuart.h) as the stream's
 * DEVICE_STATE records (docs/migration-stream.md) and back. Pure: tested on
 * the host. Decoding checks a record whole before it changes a device.
 */
#ifndef MIGR_HV_DEV_H
#define MIGR_HV_DEV_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/vmm/vdev.h"
#include "kernel/vmm/vuart.h"

/* The records a source sends, in this order: PIC pair, PIT, RTC, UART. */
#define MIGR_HV_DEVICES 4u

/*
 * DEVICE_STATE body (head included) of device i (0..MIGR_HV_DEVICES-1) into
 * buf; its length, 0 when there is no device i, HV_ERANGE if cap is short.
 */
long migr_hv_dev_encode(const struct vdev *d, const struct vuart *u, uint32_t i, uint8_t *buf, size_t cap);

/*
 * A DEVICE_STATE body the codec checked for shape into *d or *u: HV_EINVAL,
 * and nothing changed, when a field holds what the device could never have
 * reached. Sets bit `device` of *seen; HV_EINVAL for a device seen before.
 */
int migr_hv_dev_decode(const uint8_t *body, uint32_t len, struct vdev *d, struct vuart *u, uint32_t *seen);

/*
 * Once the guest's TSC at the pause is known, over the devices of *seen:
 * HV_EINVAL when a device's time lies after it, the PIT raised more
 * interrupts than had fallen due, or the UART's interrupt line and the
 * PIC's view of it disagree.
 */
int migr_hv_dev_check(const struct vdev *d, const struct vuart *u, uint32_t seen, uint64_t guest_tsc);

#endif

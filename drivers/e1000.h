/*
 * Intel 82540EM (e1000) driver: polled, legacy descriptors, one receive and
 * one transmit ring. Knows nothing of lwIP: frames go in and out as bytes.
 *
 * Copies: transmit copies the frame into a ring buffer (one copy); receive
 * hands out the ring buffer, which the caller may keep by giving the
 * descriptor another buffer (e1000_rx_swap: no copy) or copy and release.
 */
#ifndef HV_DRIVERS_E1000_H
#define HV_DRIVERS_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "drivers/e1000_regs.h"
#include "drivers/pci.h"

#define E1000_RX_RING 128u   /* descriptors; RDLEN must be a multiple of 128 bytes */
#define E1000_TX_RING 64u
#define E1000_BUF_SIZE 2048u /* RCTL.BSIZE 2048 */
#define E1000_MAX_FRAME 1514u /* no FCS (hardware adds it, SECRC strips it) */

struct e1000 {
	struct pci_dev pci;
	volatile uint8_t *mmio;
	uint8_t mac[6];
	struct e1000_rx_desc *rx; /* physical = virtual (identity map) */
	struct e1000_tx_desc *tx;
	uint8_t *rx_buf;          /* E1000_RX_RING * E1000_BUF_SIZE, the buffers the rings start with */
	uint8_t *rx_bufs[E1000_RX_RING]; /* each receive descriptor's current buffer (see e1000_rx_swap) */
	uint8_t *tx_buf;          /* E1000_TX_RING * E1000_BUF_SIZE */
	unsigned rx_next;         /* next descriptor the device fills */
	unsigned tx_next;         /* next descriptor we fill */
	bool tx_ext;              /* a checksum context is set: frames go in data descriptors */
	uint64_t rx_frames, rx_dropped, tx_frames, tx_full;
	uint64_t rx_bytes, tx_bytes;
	uint64_t rx_missed;       /* frames the device dropped for want of a descriptor (MPC) */
};

/* Maps the device, reads its MAC, sets up both rings and enables receive and transmit (no reset). */
int e1000_init(struct e1000 *nic, const struct pci_dev *pci);

/* Queues one frame of len bytes (copied); HV_EBUSY when the ring is full, HV_EINVAL when too long. */
int e1000_transmit(struct e1000 *nic, const void *frame, size_t len);

/*
 * The same in two steps, so a caller can gather a frame straight into the
 * ring: e1000_tx_slot() returns the next free E1000_BUF_SIZE buffer (NULL
 * when the ring is full), e1000_tx_commit() sends len (1..E1000_MAX_FRAME)
 * bytes of it. Nothing else may touch the ring in between.
 */
uint8_t *e1000_tx_slot(struct e1000 *nic);
void e1000_tx_commit(struct e1000 *nic, size_t len, bool tcp_csum);

/*
 * TCP checksum offload (8254x manual, 3.3.6): from now on a frame committed
 * with tcp_csum has the device add its bytes from offset tucss to its end to
 * the 16 bits at tucso and store the complement there; the caller puts the
 * pseudo-header's sum there first. HV_EBUSY when the ring is full.
 */
int e1000_tx_offload_tcp(struct e1000 *nic, uint8_t tucss, uint8_t tucso);

/*
 * The next received frame, or NULL: *len is its length. The buffer stays
 * valid until e1000_rx_release(), which returns it to the device; call it
 * before asking for the next frame. Frames with errors are skipped.
 */
const uint8_t *e1000_rx_peek(struct e1000 *nic, size_t *len);
void e1000_rx_release(struct e1000 *nic);

/*
 * Like e1000_rx_release(), but the caller keeps the buffer it was given
 * and the descriptor receives into fresh (E1000_BUF_SIZE bytes) from now on.
 */
void e1000_rx_swap(struct e1000 *nic, uint8_t *fresh);

bool e1000_link_up(const struct e1000 *nic);

/* Folds the device's clear-on-read counters into nic's (call when reporting). */
void e1000_stats_update(struct e1000 *nic);

#endif

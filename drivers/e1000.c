/* Intel 82540EM driver: polled rings with legacy descriptors (Intel 8254x manual, 14.5-14.6). */
#include "drivers/e1000.h"

#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"

#define E1000_EERD_TIMEOUT_US 10000u

_Static_assert(E1000_RX_RING * sizeof(struct e1000_rx_desc) % 128 == 0, "RDLEN: a multiple of 128 bytes");
_Static_assert(E1000_TX_RING * sizeof(struct e1000_tx_desc) % 128 == 0, "TDLEN: a multiple of 128 bytes");
_Static_assert(E1000_BUF_SIZE == 2048, "RCTL.BSIZE is programmed for 2048-byte buffers");

static uint32_t e1000_rd(const struct e1000 *nic, uint32_t reg)
{
	return mmio_read32(nic->mmio + reg);
}

static void e1000_wr(struct e1000 *nic, uint32_t reg, uint32_t v)
{
	mmio_write32(nic->mmio + reg, v);
}

/* One EEPROM word through EERD; -1 if the device does not answer. */
static int e1000_eeprom_read(struct e1000 *nic, unsigned word, uint16_t *out)
{
	uint64_t deadline = time_now() + time_us_to_ticks(E1000_EERD_TIMEOUT_US);
	uint32_t v;

	e1000_wr(nic, E1000_EERD, E1000_EERD_START | (uint32_t)word << E1000_EERD_ADDR_SHIFT);
	do {
		v = e1000_rd(nic, E1000_EERD);
		if (v & E1000_EERD_DONE) {
			*out = (uint16_t)(v >> E1000_EERD_DATA_SHIFT);
			return 0;
		}
	} while (time_now() < deadline);
	return -1;
}

/* The EEPROM holds the station address; RAL0/RAH0 (loaded from it at power-up) are the fallback. */
static int e1000_read_mac(struct e1000 *nic)
{
	uint16_t w[E1000_EEPROM_MAC_WORDS];
	uint32_t ral, rah;
	unsigned i;

	for (i = 0; i < E1000_EEPROM_MAC_WORDS; i++)
		if (e1000_eeprom_read(nic, i, &w[i]))
			break;
	if (i == E1000_EEPROM_MAC_WORDS) {
		for (i = 0; i < E1000_EEPROM_MAC_WORDS; i++) {
			nic->mac[2 * i] = (uint8_t)w[i];
			nic->mac[2 * i + 1] = (uint8_t)(w[i] >> 8);
		}
		return HV_OK;
	}
	ral = e1000_rd(nic, E1000_RAL0);
	rah = e1000_rd(nic, E1000_RAH0);
	if (!(rah & E1000_RAH_AV))
		return HV_ENOENT;
	for (i = 0; i < 4; i++)
		nic->mac[i] = (uint8_t)(ral >> (8 * i));
	nic->mac[4] = (uint8_t)rah;
	nic->mac[5] = (uint8_t)(rah >> 8);
	return HV_OK;
}

static int e1000_rings_alloc(struct e1000 *nic)
{
	uint64_t rx = frames_alloc(FRAME_SIZE, FRAME_SIZE), tx = frames_alloc(FRAME_SIZE, FRAME_SIZE);
	uint64_t rxb = frames_alloc(E1000_RX_RING * E1000_BUF_SIZE, FRAME_SIZE);
	uint64_t txb = frames_alloc(E1000_TX_RING * E1000_BUF_SIZE, FRAME_SIZE);

	_Static_assert(E1000_RX_RING * sizeof(struct e1000_rx_desc) <= FRAME_SIZE, "RX ring fits a frame");
	_Static_assert(E1000_TX_RING * sizeof(struct e1000_tx_desc) <= FRAME_SIZE, "TX ring fits a frame");
	if (!rx || !tx || !rxb || !txb)
		return HV_ENOMEM; /* frames are never freed at this stage of boot: nothing to undo */
	nic->rx = (struct e1000_rx_desc *)(uintptr_t)rx;
	nic->tx = (struct e1000_tx_desc *)(uintptr_t)tx;
	nic->rx_buf = (uint8_t *)(uintptr_t)rxb;
	nic->tx_buf = (uint8_t *)(uintptr_t)txb;
	return HV_OK;
}

static void e1000_rx_init(struct e1000 *nic)
{
	unsigned i;

	for (i = 0; i < E1000_RX_RING; i++) {
		volatile struct e1000_rx_desc *d = &nic->rx[i];

		nic->rx_bufs[i] = nic->rx_buf + i * E1000_BUF_SIZE;
		d->addr = (uint64_t)(uintptr_t)nic->rx_bufs[i];
		d->status = 0;
	}
	nic->rx_next = 0;
	e1000_wr(nic, E1000_RDBAL, (uint32_t)(uintptr_t)nic->rx);
	e1000_wr(nic, E1000_RDBAH, (uint32_t)((uint64_t)(uintptr_t)nic->rx >> 32));
	e1000_wr(nic, E1000_RDLEN, E1000_RX_RING * sizeof(struct e1000_rx_desc));
	e1000_wr(nic, E1000_RDH, 0);
	/* The device owns RDH..RDT-1: all but one descriptor, so a full ring never looks empty. */
	e1000_wr(nic, E1000_RDT, E1000_RX_RING - 1);
	e1000_wr(nic, E1000_RDTR, 0);
	e1000_wr(nic, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_BSIZE_2048 | E1000_RCTL_SECRC);
}

static void e1000_tx_init(struct e1000 *nic)
{
	unsigned i;

	for (i = 0; i < E1000_TX_RING; i++) {
		volatile struct e1000_tx_desc *d = &nic->tx[i];

		d->addr = (uint64_t)(uintptr_t)(nic->tx_buf + i * E1000_BUF_SIZE);
		d->cmd = 0;
		d->status = E1000_TXD_STAT_DD; /* free */
	}
	nic->tx_next = 0;
	nic->tx_ext = false;
	e1000_wr(nic, E1000_TDBAL, (uint32_t)(uintptr_t)nic->tx);
	e1000_wr(nic, E1000_TDBAH, (uint32_t)((uint64_t)(uintptr_t)nic->tx >> 32));
	e1000_wr(nic, E1000_TDLEN, E1000_TX_RING * sizeof(struct e1000_tx_desc));
	e1000_wr(nic, E1000_TDH, 0);
	e1000_wr(nic, E1000_TDT, 0);
	e1000_wr(nic, E1000_TIPG, E1000_TIPG_IPGT | E1000_TIPG_IPGR1 << E1000_TIPG_IPGR1_SHIFT |
					  E1000_TIPG_IPGR2 << E1000_TIPG_IPGR2_SHIFT);
	e1000_wr(nic, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT |
					  E1000_TCTL_COLD_FD << E1000_TCTL_COLD_SHIFT);
}

/*
 * No CTRL.RST: on the test bed, Bochs' model never made receive ready again
 * after a reset. The device is taken as the firmware left it and every
 * register the rings depend on is written explicitly.
 */
int e1000_init(struct e1000 *nic, const struct pci_dev *pci)
{
	uint64_t bar;
	uint32_t ctrl;
	unsigned i;
	int rc;

	memset(nic, 0, sizeof(*nic));
	nic->pci = *pci;
	bar = pci_bar_mem(pci, 0);
	if (bar == 0 || bar >= FRAMES_LIMIT)
		return HV_ENOTSUP; /* only the identity-mapped first 4 GiB are reachable */
	pci_write16(pci, PCI_COMMAND, (uint16_t)(pci_read16(pci, PCI_COMMAND) | PCI_COMMAND_MEMORY |
						   PCI_COMMAND_MASTER));
	nic->mmio = (volatile uint8_t *)(uintptr_t)bar;

	e1000_wr(nic, E1000_IMC, E1000_IMC_ALL); /* polled: no interrupts */
	(void)e1000_rd(nic, E1000_ICR);
	rc = e1000_read_mac(nic);
	if (rc)
		return rc;
	rc = e1000_rings_alloc(nic);
	if (rc)
		return rc;

	ctrl = e1000_rd(nic, E1000_CTRL);
	ctrl &= ~(E1000_CTRL_RST | E1000_CTRL_PHY_RST | E1000_CTRL_VME);
	e1000_wr(nic, E1000_CTRL, ctrl | E1000_CTRL_SLU | E1000_CTRL_ASDE);

	e1000_wr(nic, E1000_RAL0, (uint32_t)nic->mac[0] | (uint32_t)nic->mac[1] << 8 |
					  (uint32_t)nic->mac[2] << 16 | (uint32_t)nic->mac[3] << 24);
	e1000_wr(nic, E1000_RAH0, (uint32_t)nic->mac[4] | (uint32_t)nic->mac[5] << 8 | E1000_RAH_AV);
	for (i = 0; i < E1000_MTA_COUNT; i++)
		e1000_wr(nic, E1000_MTA + 4 * i, 0);

	e1000_tx_init(nic);
	e1000_rx_init(nic);
	return HV_OK;
}

uint8_t *e1000_tx_slot(struct e1000 *nic)
{
	volatile struct e1000_tx_desc *d = &nic->tx[nic->tx_next];

	if (!(d->status & E1000_TXD_STAT_DD)) {
		nic->tx_full++;
		return NULL;
	}
	return nic->tx_buf + nic->tx_next * E1000_BUF_SIZE;
}

/* Hands the descriptor at tx_next to the device. */
static void tx_push(struct e1000 *nic)
{
	/* The buffer and descriptor must be in memory before the tail moves (x86: a compiler barrier). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	nic->tx_next = (nic->tx_next + 1) % E1000_TX_RING;
	e1000_wr(nic, E1000_TDT, nic->tx_next);
}

int e1000_tx_offload_tcp(struct e1000 *nic, uint8_t tucss, uint8_t tucso)
{
	volatile struct e1000_tx_desc *d = &nic->tx[nic->tx_next];

	if (!(d->status & E1000_TXD_STAT_DD))
		return HV_EBUSY;
	/* A context descriptor takes a slot: the offsets stay with the device for every data descriptor after it. */
	d->addr = E1000_TXD_CTX(0, 0, 0, tucss, tucso, 0); /* TUCSE 0: to the end of the frame */
	d->length = 0;
	d->cso = 0; /* DTYP 0: context */
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_RS | E1000_TXD_TUCMD_TCP | E1000_TXD_TUCMD_IP;
	tx_push(nic);
	nic->tx_ext = true;
	return HV_OK;
}

void e1000_tx_commit(struct e1000 *nic, size_t len, bool tcp_csum)
{
	volatile struct e1000_tx_desc *d = &nic->tx[nic->tx_next];

	d->addr = (uint64_t)(uintptr_t)(nic->tx_buf + nic->tx_next * E1000_BUF_SIZE); /* a context may have had it */
	d->length = (uint16_t)len;
	d->special = 0;
	d->status = 0;
	if (nic->tx_ext) {
		/* Data descriptors once a context is set, so that each frame says whether the device sums it. */
		d->cso = E1000_TXD_DTYP_DATA;
		d->css = tcp_csum ? E1000_TXD_POPTS_TXSM : 0;
		d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS | E1000_TXD_CMD_DEXT;
	} else {
		d->cso = 0;
		d->css = 0;
		d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	}
	tx_push(nic);
	nic->tx_frames++;
	nic->tx_bytes += len;
}

int e1000_transmit(struct e1000 *nic, const void *frame, size_t len)
{
	uint8_t *buf;

	if (len == 0 || len > E1000_MAX_FRAME)
		return HV_EINVAL;
	buf = e1000_tx_slot(nic);
	if (!buf)
		return HV_EBUSY;
	memcpy(buf, frame, len);
	e1000_tx_commit(nic, len, false);
	return HV_OK;
}

const uint8_t *e1000_rx_peek(struct e1000 *nic, size_t *len)
{
	for (;;) {
		volatile struct e1000_rx_desc *d = &nic->rx[nic->rx_next];
		uint8_t status = d->status;

		if (!(status & E1000_RXD_STAT_DD))
			return NULL;
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* read the buffer only after DD */
		/*
		 * 2 KiB buffers hold a whole 1514-byte frame: a frame without EOP is not one we asked for.
		 * The length is the device's word: read once and bounded by what we asked for (no long
		 * packets, CRC stripped), so nothing above reads past the frame or the buffer.
		 */
		uint16_t length = d->length;

		if ((status & E1000_RXD_STAT_EOP) && !(d->errors & E1000_RXD_ERR_FRAME) && length > 0 &&
		    length <= E1000_MAX_FRAME) {
			*len = length;
			nic->rx_frames++;
			nic->rx_bytes += length;
			return nic->rx_bufs[nic->rx_next];
		}
		nic->rx_dropped++;
		e1000_rx_release(nic);
	}
}

void e1000_rx_release(struct e1000 *nic)
{
	volatile struct e1000_rx_desc *d = &nic->rx[nic->rx_next];

	d->status = 0;
	d->errors = 0;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e1000_wr(nic, E1000_RDT, nic->rx_next); /* hand this descriptor back */
	nic->rx_next = (nic->rx_next + 1) % E1000_RX_RING;
}

void e1000_rx_swap(struct e1000 *nic, uint8_t *fresh)
{
	nic->rx_bufs[nic->rx_next] = fresh;
	nic->rx[nic->rx_next].addr = (uint64_t)(uintptr_t)fresh;
	e1000_rx_release(nic);
}

bool e1000_link_up(const struct e1000 *nic) { return (e1000_rd(nic, E1000_STATUS) & E1000_STATUS_LU) != 0; }

void e1000_stats_update(struct e1000 *nic) { nic->rx_missed += e1000_rd(nic, E1000_MPC); }

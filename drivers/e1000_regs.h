/*
 * Intel 8254x (e1000) registers, bits and descriptors, named as in Intel's
 * "PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's
 * Manual" (317453), chapter 13 (registers) and 3.2/3.3 (legacy descriptors).
 * Only what the driver uses.
 */
#ifndef HV_DRIVERS_E1000_REGS_H
#define HV_DRIVERS_E1000_REGS_H

#include <stdint.h>

#define E1000_VENDOR_INTEL 0x8086u
#define E1000_DEV_82540EM 0x100eu /* what Bochs and QEMU emulate */

/* Register offsets from BAR0 (13.4). */
#define E1000_CTRL 0x00000u   /* Device Control */
#define E1000_STATUS 0x00008u /* Device Status */
#define E1000_MPC 0x04010u    /* Missed Packets Count (clear on read, 13.7.3) */
#define E1000_EECD 0x00010u   /* EEPROM/Flash Control */
#define E1000_EERD 0x00014u   /* EEPROM Read */
#define E1000_ICR 0x000c0u    /* Interrupt Cause Read (clear on read) */
#define E1000_IMS 0x000d0u    /* Interrupt Mask Set */
#define E1000_IMC 0x000d8u    /* Interrupt Mask Clear */
#define E1000_RCTL 0x00100u   /* Receive Control */
#define E1000_TCTL 0x00400u   /* Transmit Control */
#define E1000_TIPG 0x00410u   /* Transmit Inter Packet Gap */
#define E1000_RDBAL 0x02800u  /* Receive Descriptor Base Low */
#define E1000_RDBAH 0x02804u  /* Receive Descriptor Base High */
#define E1000_RDLEN 0x02808u  /* Receive Descriptor Length (bytes, multiple of 128) */
#define E1000_RDH 0x02810u    /* Receive Descriptor Head */
#define E1000_RDT 0x02818u    /* Receive Descriptor Tail */
#define E1000_RDTR 0x02820u   /* Receive Delay Timer */
#define E1000_TDBAL 0x03800u  /* Transmit Descriptor Base Low */
#define E1000_TDBAH 0x03804u  /* Transmit Descriptor Base High */
#define E1000_TDLEN 0x03808u  /* Transmit Descriptor Length */
#define E1000_TDH 0x03810u    /* Transmit Descriptor Head */
#define E1000_TDT 0x03818u    /* Transmit Descriptor Tail */
#define E1000_MTA 0x05200u    /* Multicast Table Array, 128 dwords */
#define E1000_MTA_COUNT 128u
#define E1000_RAL0 0x05400u   /* Receive Address Low, entry 0 */
#define E1000_RAH0 0x05404u   /* Receive Address High, entry 0 */

/* CTRL (13.4.1) */
#define E1000_CTRL_FD (1u << 0)       /* full duplex */
#define E1000_CTRL_ASDE (1u << 5)     /* auto-speed detection enable */
#define E1000_CTRL_SLU (1u << 6)      /* set link up */
#define E1000_CTRL_RST (1u << 26)     /* device reset: not used, see e1000.c */
#define E1000_CTRL_VME (1u << 30)     /* VLAN mode enable */
#define E1000_CTRL_PHY_RST (1u << 31) /* PHY reset */

/* STATUS (13.4.2) */
#define E1000_STATUS_FD (1u << 0)
#define E1000_STATUS_LU (1u << 1) /* link up */

/* EERD (13.4.4, 82540EM layout) */
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE (1u << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16
#define E1000_EEPROM_MAC_WORDS 3 /* words 0..2: the Ethernet address */

/* Interrupt causes (13.4.17), for masking all of them. */
#define E1000_IMC_ALL 0xffffffffu

/* RCTL (13.4.22) */
#define E1000_RCTL_EN (1u << 1)     /* receiver enable */
#define E1000_RCTL_SBP (1u << 2)    /* store bad packets */
#define E1000_RCTL_UPE (1u << 3)    /* unicast promiscuous */
#define E1000_RCTL_MPE (1u << 4)    /* multicast promiscuous */
#define E1000_RCTL_LPE (1u << 5)    /* long packet enable */
#define E1000_RCTL_BAM (1u << 15)   /* broadcast accept mode */
#define E1000_RCTL_BSIZE_2048 (0u << 16) /* with BSEX clear */
#define E1000_RCTL_BSEX (1u << 25)  /* buffer size extension */
#define E1000_RCTL_SECRC (1u << 26) /* strip Ethernet CRC */

/* TCTL (13.4.33) */
#define E1000_TCTL_EN (1u << 1)  /* transmit enable */
#define E1000_TCTL_PSP (1u << 3) /* pad short packets */
#define E1000_TCTL_CT_SHIFT 4    /* collision threshold */
#define E1000_TCTL_CT_DEFAULT 0x0fu
#define E1000_TCTL_COLD_SHIFT 12 /* collision distance */
#define E1000_TCTL_COLD_FD 0x40u /* full duplex value */
#define E1000_TCTL_RTLC (1u << 24)

/* TIPG (13.4.34): the values the manual gives for the 82540 on copper. */
#define E1000_TIPG_IPGT 10u
#define E1000_TIPG_IPGR1_SHIFT 10
#define E1000_TIPG_IPGR1 8u
#define E1000_TIPG_IPGR2_SHIFT 20
#define E1000_TIPG_IPGR2 6u

/* RAH (13.4.63) */
#define E1000_RAH_AV (1u << 31) /* address valid */

/* Legacy receive descriptor (3.2.3). */
struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};
_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor is 16 bytes");

#define E1000_RXD_STAT_DD (1u << 0)  /* descriptor done */
#define E1000_RXD_STAT_EOP (1u << 1) /* end of packet */
/* RXD errors: CE, SE, SEQ, CXE, RXE (the checksum bits are ignored). */
#define E1000_RXD_ERR_FRAME 0x97u

/* Legacy transmit descriptor (3.3.3). */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor is 16 bytes");

#define E1000_TXD_CMD_EOP (1u << 0)  /* end of packet */
#define E1000_TXD_CMD_IFCS (1u << 1) /* insert FCS */
#define E1000_TXD_CMD_RS (1u << 3)   /* report status */
#define E1000_TXD_CMD_DEXT (1u << 5) /* extended descriptor: context or data (3.3.7, 3.3.8) */
#define E1000_TXD_STAT_DD (1u << 0)  /* descriptor done */

/*
 * Extended descriptors laid over the legacy one's fields (3.3.7, 3.3.8):
 * in a data descriptor the legacy CSO byte holds DTYP (bits 20-23 of the
 * second dword) and the legacy CSS byte holds POPTS; a context descriptor
 * (DTYP 0) holds the checksum offsets where the legacy buffer address is,
 * and TUCMD in the legacy CMD byte.
 */
#define E1000_TXD_DTYP_DATA 0x10u    /* in the CSO byte: DTYP = 1 */
#define E1000_TXD_POPTS_TXSM (1u << 1) /* in the CSS byte: insert the TCP/UDP checksum */
#define E1000_TXD_TUCMD_TCP (1u << 0) /* context: the checksum is TCP's */
#define E1000_TXD_TUCMD_IP (1u << 1)  /* context: IPv4 */
/* Context fields in the buffer address's place: IPCSS, IPCSO, IPCSE, TUCSS, TUCSO, TUCSE (3.3.6). */
#define E1000_TXD_CTX(ipcss, ipcso, ipcse, tucss, tucso, tucse)                                              \
	((uint64_t)(ipcss) | (uint64_t)(ipcso) << 8 | (uint64_t)(ipcse) << 16 | (uint64_t)(tucss) << 32 | \
	 (uint64_t)(tucso) << 40 | (uint64_t)(tucse) << 48)

#endif

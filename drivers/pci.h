/* PCI configuration space through the legacy I/O ports (mechanism #1), and a bus scan. */
#ifndef HV_DRIVERS_PCI_H
#define HV_DRIVERS_PCI_H

#include <stdint.h>

#define PCI_CONFIG_ADDRESS 0xcf8u
#define PCI_CONFIG_DATA 0xcfcu
#define PCI_CONFIG_ENABLE (1u << 31)

/* Configuration header offsets (type 0). */
#define PCI_VENDOR_ID 0x00u
#define PCI_DEVICE_ID 0x02u
#define PCI_COMMAND 0x04u
#define PCI_HEADER_TYPE 0x0eu
#define PCI_BAR0 0x10u

#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_HEADER_MULTI_FUNCTION 0x80u

#define PCI_BAR_IO (1u << 0)
#define PCI_BAR_TYPE_MASK 0x6u
#define PCI_BAR_TYPE_64 0x4u
#define PCI_BAR_MEM_MASK 0xfffffff0u

#define PCI_VENDOR_NONE 0xffffu

struct pci_dev {
	uint8_t bus, slot, func;
	uint16_t vendor, device;
};

uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);

/*
 * Finds up to max functions with this vendor and device ID, in bus/slot/
 * function order; returns how many it found.
 */
unsigned pci_find(uint16_t vendor, uint16_t device, struct pci_dev *out, unsigned max);

/* The memory address BAR bar (0..5) decodes (a 64-bit BAR uses bar and bar+1); 0 for an I/O BAR. */
uint64_t pci_bar_mem(const struct pci_dev *d, unsigned bar);

#endif

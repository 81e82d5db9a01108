/* PCI configuration mechanism #1: a 32-bit address at 0xcf8, the data at 0xcfc. */
#include "drivers/pci.h"

#include "kernel/arch/x86/hw/hwops.h"

static uint32_t pci_address(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off)
{
	return PCI_CONFIG_ENABLE | (uint32_t)bus << 16 | (uint32_t)(slot & 0x1f) << 11 |
	       (uint32_t)(func & 0x7) << 8 | (off & 0xfcu);
}

static uint32_t pci_cfg_read(uint8_t bus, uint8_t slot, uint8_t func, uint8_t off)
{
	outl(PCI_CONFIG_ADDRESS, pci_address(bus, slot, func, off));
	return inl(PCI_CONFIG_DATA);
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off) { return pci_cfg_read(d->bus, d->slot, d->func, off); }

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	outl(PCI_CONFIG_ADDRESS, pci_address(d->bus, d->slot, d->func, off));
	outl(PCI_CONFIG_DATA, v);
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
	return (uint16_t)(pci_read32(d, off) >> ((off & 2u) * 8));
}

/* Read-modify-write of the dword: mechanism #1 is dword-wide here. */
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	unsigned shift = (off & 2u) * 8;
	uint32_t old = pci_read32(d, off);

	pci_write32(d, off, (old & ~(0xffffu << shift)) | (uint32_t)v << shift);
}

unsigned pci_find(uint16_t vendor, uint16_t device, struct pci_dev *out, unsigned max)
{
	unsigned found = 0, bus, slot, func;

	for (bus = 0; bus < 256; bus++) {
		for (slot = 0; slot < 32; slot++) {
			for (func = 0; func < 8; func++) {
				uint32_t id = pci_cfg_read((uint8_t)bus, (uint8_t)slot, (uint8_t)func, PCI_VENDOR_ID);
				uint32_t hdr;

				if ((id & 0xffffu) == PCI_VENDOR_NONE) {
					if (func == 0)
						break; /* no device in this slot */
					continue;
				}
				if ((id & 0xffffu) == vendor && (id >> 16) == device && found < max)
					out[found++] = (struct pci_dev){ (uint8_t)bus, (uint8_t)slot, (uint8_t)func,
									 vendor, device };
				hdr = pci_cfg_read((uint8_t)bus, (uint8_t)slot, 0, PCI_HEADER_TYPE & 0xfcu);
				if (func == 0 && !((hdr >> 16) & PCI_HEADER_MULTI_FUNCTION))
					break;
			}
		}
	}
	return found;
}

uint64_t pci_bar_mem(const struct pci_dev *d, unsigned bar)
{
	uint8_t off = (uint8_t)(PCI_BAR0 + 4 * bar);
	uint32_t lo = pci_read32(d, off);
	uint64_t addr;

	if (lo & PCI_BAR_IO)
		return 0;
	addr = lo & PCI_BAR_MEM_MASK;
	if ((lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64 && bar < 5)
		addr |= (uint64_t)pci_read32(d, (uint8_t)(off + 4)) << 32;
	return addr;
}

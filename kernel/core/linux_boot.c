#include "kernel/core/linux_boot.h"

#include <string.h>
#include "kernel/lib/err.h"

#define PAGE 0x1000ull
/* Flat 4 GiB descriptors (SDM 3.4.5): limit 0xfffff in 4 KiB units, present, DPL 0, 32-bit. */
#define GDT_FLAT_CODE 0x00cf9a000000ffffull
#define GDT_FLAT_DATA 0x00cf92000000ffffull

static uint8_t get8(const uint8_t *p, size_t off) { return p[off]; }

static uint16_t get16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v)); /* x86 and the boot protocol are little-endian */
	return v;
}

static uint32_t get32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static void put8(uint8_t *p, size_t off, uint8_t v) { p[off] = v; }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, sizeof(v)); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, sizeof(v)); }

bool linux_is_bzimage(const void *img, size_t len)
{
	return len >= LINUX_HDR_MAGIC + sizeof(uint32_t) && get32(img, LINUX_HDR_MAGIC) == LINUX_HDR_MAGIC_VALUE;
}

int linux_parse(const void *img, size_t len, struct linux_image *out)
{
	const uint8_t *p = img;
	unsigned sects;

	if (!linux_is_bzimage(img, len) || len < LINUX_HDR_INIT_SIZE + sizeof(uint32_t))
		return HV_EINVAL;
	memset(out, 0, sizeof(*out));
	out->version = get16(p, LINUX_HDR_VERSION);
	out->hdr_end = LINUX_HDR_MAGIC + get8(p, LINUX_HDR_JUMP + 1);
	if (out->version < LINUX_PROTOCOL_MIN || out->hdr_end < LINUX_HDR_INIT_SIZE + sizeof(uint32_t) ||
	    !(get8(p, LINUX_HDR_LOADFLAGS) & LINUX_LOADFLAGS_LOADED_HIGH))
		return HV_EINVAL;
	sects = get8(p, LINUX_HDR_SETUP_SECTS);
	out->setup_len = (uint64_t)((sects ? sects : LINUX_SETUP_SECTS_DEFAULT) + 1) * LINUX_SECTOR;
	if (out->setup_len >= len)
		return HV_EINVAL;
	out->kernel_len = len - out->setup_len;
	/* syssize counts 16-byte paragraphs of protected-mode code: the file must hold them. */
	if ((uint64_t)get32(p, LINUX_HDR_SYSSIZE) * 16 > out->kernel_len)
		return HV_EINVAL;
	out->initrd_addr_max = get32(p, LINUX_HDR_INITRD_ADDR_MAX);
	out->kernel_alignment = get32(p, LINUX_HDR_KERNEL_ALIGNMENT);
	out->relocatable = get8(p, LINUX_HDR_RELOCATABLE);
	out->cmdline_size = get32(p, LINUX_HDR_CMDLINE_SIZE);
	out->pref_address = get64(p, LINUX_HDR_PREF_ADDRESS);
	out->init_size = get32(p, LINUX_HDR_INIT_SIZE);
	return HV_OK;
}

int linux_plan(const struct linux_image *k, uint64_t ram, uint64_t initrd_len, size_t cmdline_len,
	       struct linux_layout *out)
{
	/* A relocatable kernel loaded low decompresses at pref_address; one that is not runs there anyway. */
	uint64_t run_at = k->pref_address > LINUX_KERNEL_GPA ? k->pref_address : LINUX_KERNEL_GPA;
	uint64_t kernel_end = LINUX_KERNEL_GPA + k->kernel_len;
	uint64_t busy_end = run_at + k->init_size > kernel_end ? run_at + k->init_size : kernel_end;
	uint64_t top = ram < (uint64_t)k->initrd_addr_max + 1 ? ram : (uint64_t)k->initrd_addr_max + 1;

	if (cmdline_len > k->cmdline_size || cmdline_len >= PAGE)
		return HV_EINVAL;
	if (busy_end > ram)
		return HV_ERANGE;
	memset(out, 0, sizeof(*out));
	out->ram_size = ram;
	out->kernel_gpa = LINUX_KERNEL_GPA;
	out->params_gpa = LINUX_PARAMS_GPA;
	out->cmdline_gpa = LINUX_CMDLINE_GPA;
	out->gdt_gpa = LINUX_GDT_GPA;
	if (!initrd_len)
		return HV_OK;
	if (initrd_len > top || ((top - initrd_len) & ~(PAGE - 1)) < busy_end)
		return HV_ERANGE;
	out->initrd_gpa = (top - initrd_len) & ~(PAGE - 1);
	out->initrd_len = initrd_len;
	return HV_OK;
}

static void e820_put(uint8_t *bp, unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
	size_t off = LINUX_BP_E820_TABLE + (size_t)i * LINUX_E820_ENTRY_SIZE;

	put64(bp, off, addr);
	put64(bp, off + 8, size);
	put32(bp, off + 16, type);
}

void linux_boot_params(uint8_t *bp, const uint8_t *img, const struct linux_image *k, const struct linux_layout *l)
{
	memset(bp, 0, LINUX_BP_SIZE);
	/* The loader hands the kernel its own setup header back, with its fields filled in. */
	memcpy(bp + LINUX_HDR_SETUP_SECTS, img + LINUX_HDR_SETUP_SECTS, k->hdr_end - LINUX_HDR_SETUP_SECTS);
	put8(bp, LINUX_HDR_TYPE_OF_LOADER, LINUX_LOADER_UNDEFINED);
	put32(bp, LINUX_HDR_CODE32_START, (uint32_t)l->kernel_gpa);
	put32(bp, LINUX_HDR_CMD_LINE_PTR, (uint32_t)l->cmdline_gpa);
	put32(bp, LINUX_HDR_RAMDISK_IMAGE, (uint32_t)l->initrd_gpa);
	put32(bp, LINUX_HDR_RAMDISK_SIZE, (uint32_t)l->initrd_len);
	e820_put(bp, 0, 0, LINUX_LOW_RAM_END, LINUX_E820_RAM);
	e820_put(bp, 1, LINUX_LOW_RAM_END, LINUX_HIGH_RAM_START - LINUX_LOW_RAM_END, LINUX_E820_RESERVED);
	e820_put(bp, 2, LINUX_HIGH_RAM_START, l->ram_size - LINUX_HIGH_RAM_START, LINUX_E820_RAM);
	put8(bp, LINUX_BP_E820_ENTRIES, 3);
}

void linux_boot_gdt(uint64_t gdt[LINUX_GDT_ENTRIES])
{
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[LINUX_BOOT_CS / 8] = GDT_FLAT_CODE;
	gdt[LINUX_BOOT_DS / 8] = GDT_FLAT_DATA;
}

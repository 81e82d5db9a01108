/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst of the
 * kernel, protocol 2.10 and later), as the hypervisor uses it to start an
 * unmodified bzImage at its 32-bit entry point. Pure: it reads the image's
 * setup header, plans where everything goes in guest RAM and builds the
 * zero page (struct boot_params) and the boot GDT into buffers.
 */
#ifndef HV_KERNEL_CORE_LINUX_BOOT_H
#define HV_KERNEL_CORE_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offsets in the bzImage file, which are also offsets in the zero page (the setup header's place). */
#define LINUX_HDR_SETUP_SECTS 0x1f1
#define LINUX_HDR_SYSSIZE 0x1f4
#define LINUX_HDR_JUMP 0x200         /* its second byte is the header's length past 0x202 */
#define LINUX_HDR_MAGIC 0x202        /* "HdrS" */
#define LINUX_HDR_VERSION 0x206
#define LINUX_HDR_TYPE_OF_LOADER 0x210
#define LINUX_HDR_LOADFLAGS 0x211
#define LINUX_HDR_CODE32_START 0x214
#define LINUX_HDR_RAMDISK_IMAGE 0x218
#define LINUX_HDR_RAMDISK_SIZE 0x21c
#define LINUX_HDR_CMD_LINE_PTR 0x228
#define LINUX_HDR_INITRD_ADDR_MAX 0x22c
#define LINUX_HDR_KERNEL_ALIGNMENT 0x230
#define LINUX_HDR_RELOCATABLE 0x234
#define LINUX_HDR_CMDLINE_SIZE 0x238
#define LINUX_HDR_PREF_ADDRESS 0x258
#define LINUX_HDR_INIT_SIZE 0x260

/* Zero-page fields outside the setup header. */
#define LINUX_BP_SIZE 0x1000
#define LINUX_BP_E820_ENTRIES 0x1e8
#define LINUX_BP_E820_TABLE 0x2d0
#define LINUX_BP_E820_MAX 128
#define LINUX_E820_ENTRY_SIZE 20     /* u64 addr, u64 size, u32 type, packed */

#define LINUX_HDR_MAGIC_VALUE 0x53726448u /* "HdrS" */
#define LINUX_PROTOCOL_MIN 0x20a          /* pref_address and init_size exist from 2.10 */
#define LINUX_LOADER_UNDEFINED 0xff       /* type_of_loader: a loader without an assigned id */
#define LINUX_LOADFLAGS_LOADED_HIGH 0x01  /* the protected-mode code runs at 1 MiB or above */
#define LINUX_SECTOR 512
#define LINUX_SETUP_SECTS_DEFAULT 4       /* setup_sects 0 means 4 */

#define LINUX_E820_RAM 1
#define LINUX_E820_RESERVED 2

/* The boot GDT the 32-bit entry expects: flat code at 0x10, flat data at 0x18. */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18
#define LINUX_GDT_ENTRIES 4

/* Guest-physical places of the loader's own structures, all in low RAM that Linux keeps reserved. */
#define LINUX_PARAMS_GPA 0x8000ull
#define LINUX_CMDLINE_GPA 0x9000ull
#define LINUX_GDT_GPA 0xa000ull
#define LINUX_KERNEL_GPA 0x100000ull      /* the protected-mode code: the protocol's classic place */
#define LINUX_LOW_RAM_END 0x9f000ull      /* RAM below the (absent) EBDA and the legacy hole */
#define LINUX_HIGH_RAM_START 0x100000ull

/* What the hypervisor needs of a bzImage's setup header. */
struct linux_image {
	uint16_t version;          /* boot protocol, e.g. 0x20f */
	uint64_t setup_len;        /* bytes of real-mode setup before the protected-mode code */
	uint64_t kernel_len;       /* bytes of protected-mode code (the rest of the file) */
	uint32_t hdr_end;          /* file offset one past the setup header */
	uint32_t initrd_addr_max;  /* highest address the initrd's last byte may have */
	uint32_t kernel_alignment;
	bool relocatable;
	uint32_t cmdline_size;     /* longest command line, without its NUL */
	uint64_t pref_address;     /* where the kernel decompresses itself (if not relocated) */
	uint32_t init_size;        /* bytes it needs from there while it starts */
};

/* True when the buffer is a bzImage: "HdrS" where the setup header keeps it. */
bool linux_is_bzimage(const void *img, size_t len);

/*
 * Reads the setup header. HV_EINVAL when it is not a bzImage, its protocol
 * is older than 2.10, it does not load high, or its lengths disagree with
 * the file's.
 */
int linux_parse(const void *img, size_t len, struct linux_image *out);

/* Where each part goes in a guest of ram bytes. */
struct linux_layout {
	uint64_t ram_size;
	uint64_t kernel_gpa;       /* protected-mode code; also the 32-bit entry point */
	uint64_t params_gpa;
	uint64_t cmdline_gpa;
	uint64_t gdt_gpa;
	uint64_t initrd_gpa;       /* 0 when there is no initrd */
	uint64_t initrd_len;
};

/*
 * Plans the guest's memory: the kernel at 1 MiB, the initrd page-aligned at
 * the top of RAM (below initrd_addr_max), clear of the region the kernel
 * decompresses into. HV_ERANGE when they do not fit in ram bytes; HV_EINVAL
 * when the command line is too long for the kernel.
 */
int linux_plan(const struct linux_image *k, uint64_t ram, uint64_t initrd_len, size_t cmdline_len,
	       struct linux_layout *out);

/*
 * Builds the zero page in bp (LINUX_BP_SIZE bytes): the image's setup
 * header, the loader type, the command line and initrd pointers of l, and
 * an e820 map of guest RAM (low RAM, the legacy hole reserved, RAM from
 * 1 MiB up).
 */
void linux_boot_params(uint8_t *bp, const uint8_t *img, const struct linux_image *k, const struct linux_layout *l);

/* The boot GDT: null descriptors, then 4 GiB flat code (LINUX_BOOT_CS) and data (LINUX_BOOT_DS). */
void linux_boot_gdt(uint64_t gdt[LINUX_GDT_ENTRIES]);

#endif

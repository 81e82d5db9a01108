/*
 * Multiboot2 boot information: the tags the hypervisor reads, decoded into a
 * plain struct. Pure: the parser reads a buffer and writes *out.
 * Layout from the Multiboot2 specification, version 2.0.
 */
#ifndef HV_KERNEL_CORE_MULTIBOOT2_H
#define HV_KERNEL_CORE_MULTIBOOT2_H

#include <stddef.h>
#include <stdint.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289u  /* in EAX at entry */
#define MB1_BOOTLOADER_MAGIC 0x2badb002u

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_BOOT_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6
#define MB2_TAG_ALIGN 8

#define MB2_MMAP_AVAILABLE 1

#define MB2_MAX_MODULES 4
#define MB2_MAX_MMAP 64

struct mb2_module {
	uint64_t start;        /* physical address of the first byte */
	uint64_t end;          /* physical address one past the last byte */
	const char *string;    /* the module's command line, inside the info buffer */
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;         /* MB2_MMAP_AVAILABLE or another type */
};

struct mb2_info {
	const char *cmdline;   /* "" when the loader gave none */
	const char *loader;    /* "" when the loader gave none */
	size_t module_count;
	struct mb2_module modules[MB2_MAX_MODULES];
	size_t mmap_count;
	struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
};

/*
 * Decodes the boot information at mbi, at most max_len bytes long (the
 * total_size field must fit in it). Returns 0, or HV_EINVAL when a size or
 * tag is malformed (truncated tag, tag past the end, missing end tag,
 * unterminated string); HV_ERANGE when there are more modules or memory map
 * entries than the struct holds.
 */
int mb2_parse(const void *mbi, size_t max_len, struct mb2_info *out);

/* Empties *out: no command line, loader name, modules or memory map. */
void mb2_info_reset(struct mb2_info *out);

#endif

/*
 * Multiboot2 boot information decoder. Trusts nothing in the buffer: every
 * size is checked against the bytes that are really there before it is used.
 * Fields are read byte by byte, so the buffer needs no particular alignment.
 */
#include <stddef.h>
#include <stdint.h>
#include "kernel/core/multiboot2.h"
#include "kernel/lib/err.h"

#define MB2_FIXED_SIZE 8u        /* u32 total_size, u32 reserved */
#define MB2_TAG_HDR_SIZE 8u      /* u32 type, u32 size */
#define MB2_MODULE_HDR_SIZE 16u  /* tag header, u32 mod_start, u32 mod_end */
#define MB2_MMAP_HDR_SIZE 16u    /* tag header, u32 entry_size, u32 entry_version */
#define MB2_MMAP_ENTRY_MIN 24u   /* u64 base_addr, u64 length, u32 type, u32 reserved */

static uint32_t mb2_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t mb2_rd64(const uint8_t *p)
{
	return (uint64_t)mb2_rd32(p) | (uint64_t)mb2_rd32(p + 4) << 32;
}

/* A failed parse empties *out too, so it never leaves half-decoded results behind. */
void mb2_info_reset(struct mb2_info *out)
{
	size_t i;

	out->cmdline = "";
	out->loader = "";
	out->module_count = 0;
	for (i = 0; i < MB2_MAX_MODULES; i++) {
		out->modules[i].start = 0;
		out->modules[i].end = 0;
		out->modules[i].string = "";
	}
	out->mmap_count = 0;
	for (i = 0; i < MB2_MAX_MMAP; i++) {
		out->mmap[i].base = 0;
		out->mmap[i].length = 0;
		out->mmap[i].type = 0;
	}
}

/* A string field is usable only if its NUL lies inside the tag. */
static const char *mb2_string(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '\0')
			return (const char *)p;
	return NULL;
}

static int mb2_module(const uint8_t *tag, uint32_t size, struct mb2_info *out)
{
	struct mb2_module *mod;
	uint32_t start, end;
	const char *s;

	if (size < MB2_MODULE_HDR_SIZE + 1)  /* room for at least the NUL */
		return HV_EINVAL;
	start = mb2_rd32(tag + 8);
	end = mb2_rd32(tag + 12);
	s = mb2_string(tag + MB2_MODULE_HDR_SIZE, size - MB2_MODULE_HDR_SIZE);
	if (s == NULL || end < start)
		return HV_EINVAL;
	if (out->module_count == MB2_MAX_MODULES)
		return HV_ERANGE;
	mod = &out->modules[out->module_count++];
	mod->start = start;
	mod->end = end;
	mod->string = s;
	return HV_OK;
}

static int mb2_mmap(const uint8_t *tag, uint32_t size, struct mb2_info *out)
{
	struct mb2_mmap_entry *e;
	uint32_t entry_size;
	size_t off;

	if (size < MB2_MMAP_HDR_SIZE)
		return HV_EINVAL;
	entry_size = mb2_rd32(tag + 8);
	if (entry_size < MB2_MMAP_ENTRY_MIN)
		return HV_EINVAL;
	/* A partial last entry means the tag was cut short. */
	if ((size - MB2_MMAP_HDR_SIZE) % entry_size != 0)
		return HV_EINVAL;
	for (off = MB2_MMAP_HDR_SIZE; off < size; off += entry_size) {
		if (out->mmap_count == MB2_MAX_MMAP)
			return HV_ERANGE;
		e = &out->mmap[out->mmap_count++];
		e->base = mb2_rd64(tag + off);
		e->length = mb2_rd64(tag + off + 8);
		e->type = mb2_rd32(tag + off + 16);
	}
	return HV_OK;
}

/* Decodes one tag other than the end tag; unknown types are skipped. */
static int mb2_tag(const uint8_t *tag, uint32_t type, uint32_t size, struct mb2_info *out)
{
	const char *s;

	switch (type) {
	case MB2_TAG_CMDLINE:
	case MB2_TAG_BOOT_LOADER_NAME:
		s = mb2_string(tag + MB2_TAG_HDR_SIZE, size - MB2_TAG_HDR_SIZE);
		if (s == NULL)
			return HV_EINVAL;
		if (type == MB2_TAG_CMDLINE)
			out->cmdline = s;  /* a repeated tag replaces the earlier one */
		else
			out->loader = s;
		return HV_OK;
	case MB2_TAG_MODULE:
		return mb2_module(tag, size, out);
	case MB2_TAG_MMAP:
		return mb2_mmap(tag, size, out);
	default:
		return HV_OK;
	}
}

static int mb2_walk(const uint8_t *base, size_t max_len, struct mb2_info *out)
{
	uint32_t total, type, size;
	size_t off;
	int rc;

	if (max_len < MB2_FIXED_SIZE)
		return HV_EINVAL;
	total = mb2_rd32(base);
	if (total < MB2_FIXED_SIZE + MB2_TAG_HDR_SIZE || total > max_len)
		return HV_EINVAL;

	off = MB2_FIXED_SIZE;
	while (total - off >= MB2_TAG_HDR_SIZE) {
		type = mb2_rd32(base + off);
		size = mb2_rd32(base + off + 4);
		if (size < MB2_TAG_HDR_SIZE || size > total - off)
			return HV_EINVAL;
		if (type == MB2_TAG_END)
			return size == MB2_TAG_HDR_SIZE ? HV_OK : HV_EINVAL;
		rc = mb2_tag(base + off, type, size, out);
		if (rc != HV_OK)
			return rc;
		/* Tags start 8-byte aligned; padding may run to the end of the buffer. */
		off += ((size_t)size + MB2_TAG_ALIGN - 1) & ~(size_t)(MB2_TAG_ALIGN - 1);
		if (off > total)
			break;
	}
	return HV_EINVAL;  /* ran out of bytes before the end tag */
}

int mb2_parse(const void *mbi, size_t max_len, struct mb2_info *out)
{
	int rc;

	if (out == NULL)
		return HV_EINVAL;
	mb2_info_reset(out);
	if (mbi == NULL)
		return HV_EINVAL;
	rc = mb2_walk(mbi, max_len, out);
	if (rc != HV_OK)
		mb2_info_reset(out);
	return rc;
}

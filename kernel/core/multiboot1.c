/*
 * Multiboot 1 boot information decoder. Every pointer in the structure is
 * a physical address chosen by the loader: each range is checked through the
 * map function before a byte of it is read.
 */
#include <stddef.h>
#include <stdint.h>
#include "kernel/core/multiboot1.h"
#include "kernel/lib/err.h"

#define MB1_FLAG_CMDLINE (1u << 2)
#define MB1_FLAG_MODS (1u << 3)
#define MB1_FLAG_MMAP (1u << 6)
#define MB1_FLAG_LOADER_NAME (1u << 9)

#define MB1_OFF_FLAGS 0
#define MB1_OFF_CMDLINE 16
#define MB1_OFF_MODS_COUNT 20
#define MB1_OFF_MODS_ADDR 24
#define MB1_OFF_MMAP_LENGTH 44
#define MB1_OFF_MMAP_ADDR 48
#define MB1_OFF_LOADER_NAME 64

#define MB1_MODULE_SIZE 16u      /* u32 mod_start, u32 mod_end, u32 string, u32 reserved */
#define MB1_MMAP_ENTRY_MIN 20u   /* after its u32 size: u64 base, u64 length, u32 type */

/* Where copied strings go: a bounded bump allocator over the caller's buffer. */
struct mb1_ctx {
	mb1_map_fn map;
	void *map_ctx;
	char *strings;
	size_t cap;
	size_t used;
};

static uint32_t mb1_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t mb1_rd64(const uint8_t *p)
{
	return (uint64_t)mb1_rd32(p) | (uint64_t)mb1_rd32(p + 4) << 32;
}

/* Copies the NUL-terminated string at pa into the string buffer; *out points at the copy. */
static int mb1_string(struct mb1_ctx *c, uint64_t pa, const char **out)
{
	size_t start = c->used, i;
	const uint8_t *b;

	for (i = 0; i < MB1_STRING_MAX; i++) {
		b = c->map(c->map_ctx, pa + i, 1);
		if (b == NULL)
			return HV_EINVAL;
		if (c->used == c->cap)
			return HV_ERANGE;
		c->strings[c->used++] = (char)*b;
		if (*b == '\0') {
			*out = c->strings + start;
			return HV_OK;
		}
	}
	return HV_EINVAL;
}

static int mb1_modules(struct mb1_ctx *c, uint32_t count, uint32_t addr, struct mb2_info *out)
{
	const uint8_t *m;
	struct mb2_module *mod;
	uint32_t i;
	int rc;

	if (count > MB2_MAX_MODULES)
		return HV_ERANGE;
	m = c->map(c->map_ctx, addr, (size_t)count * MB1_MODULE_SIZE);
	if (count != 0 && m == NULL)
		return HV_EINVAL;
	for (i = 0; i < count; i++, m += MB1_MODULE_SIZE) {
		mod = &out->modules[out->module_count];
		mod->start = mb1_rd32(m);
		mod->end = mb1_rd32(m + 4);
		if (mod->end < mod->start)
			return HV_EINVAL;
		rc = mb1_string(c, mb1_rd32(m + 8), &mod->string);
		if (rc != HV_OK)
			return rc;
		out->module_count++;
	}
	return HV_OK;
}

/* Entries are size-prefixed; the size does not count its own 4 bytes. */
static int mb1_mmap(struct mb1_ctx *c, uint32_t length, uint32_t addr, struct mb2_info *out)
{
	const uint8_t *map = c->map(c->map_ctx, addr, length);
	struct mb2_mmap_entry *e;
	uint32_t off = 0, size;

	if (map == NULL)
		return HV_EINVAL;
	while (off < length) {
		if (length - off < 4)
			return HV_EINVAL;
		size = mb1_rd32(map + off);
		if (size < MB1_MMAP_ENTRY_MIN || size > length - off - 4)
			return HV_EINVAL;
		if (out->mmap_count == MB2_MAX_MMAP)
			return HV_ERANGE;
		e = &out->mmap[out->mmap_count++];
		e->base = mb1_rd64(map + off + 4);
		e->length = mb1_rd64(map + off + 12);
		e->type = mb1_rd32(map + off + 20);
		off += size + 4;
	}
	return HV_OK;
}

static int mb1_walk(struct mb1_ctx *c, uint64_t info_pa, struct mb2_info *out)
{
	const uint8_t *info = c->map(c->map_ctx, info_pa, MB1_INFO_SIZE);
	uint32_t flags;
	int rc = HV_OK;

	if (info == NULL)
		return HV_EINVAL;
	flags = mb1_rd32(info + MB1_OFF_FLAGS);
	if (flags & MB1_FLAG_CMDLINE)
		rc = mb1_string(c, mb1_rd32(info + MB1_OFF_CMDLINE), &out->cmdline);
	if (rc == HV_OK && (flags & MB1_FLAG_LOADER_NAME))
		rc = mb1_string(c, mb1_rd32(info + MB1_OFF_LOADER_NAME), &out->loader);
	if (rc == HV_OK && (flags & MB1_FLAG_MODS))
		rc = mb1_modules(c, mb1_rd32(info + MB1_OFF_MODS_COUNT), mb1_rd32(info + MB1_OFF_MODS_ADDR), out);
	if (rc == HV_OK && (flags & MB1_FLAG_MMAP))
		rc = mb1_mmap(c, mb1_rd32(info + MB1_OFF_MMAP_LENGTH), mb1_rd32(info + MB1_OFF_MMAP_ADDR), out);
	return rc;
}

int mb1_parse(mb1_map_fn map, void *ctx, uint64_t info_pa, struct mb2_info *out, char *strings, size_t cap)
{
	struct mb1_ctx c = { map, ctx, strings, cap, 0 };
	int rc;

	if (out == NULL)
		return HV_EINVAL;
	mb2_info_reset(out);
	if (map == NULL || strings == NULL)
		return HV_EINVAL;
	rc = mb1_walk(&c, info_pa, out);
	if (rc != HV_OK)
		mb2_info_reset(out);
	return rc;
}

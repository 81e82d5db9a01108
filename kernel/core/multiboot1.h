/*
 * Multiboot 1 boot information (iPXE loads Multiboot 1 kernels only),
 * decoded into the same struct as Multiboot2's. Pure: memory is read through
 * a caller's function, so the parser runs on the host over a buffer.
 * Layout from the Multiboot specification, version 0.6.96.
 */
#ifndef HV_KERNEL_CORE_MULTIBOOT1_H
#define HV_KERNEL_CORE_MULTIBOOT1_H

#include <stddef.h>
#include <stdint.h>
#include "kernel/core/multiboot2.h"

#define MB1_INFO_SIZE 88u        /* the fields before the framebuffer's: all the parser reads, and more */
#define MB1_STRING_MAX 4096u     /* longest command line or name the parser follows */

/*
 * Returns a pointer to len readable bytes at physical address pa, or NULL
 * when that range is not memory the parser may read.
 */
typedef const uint8_t *(*mb1_map_fn)(void *ctx, uint64_t pa, size_t len);

/*
 * Decodes the boot information at info_pa into *out. The loader's strings
 * live wherever it put them (often low memory the hypervisor reuses), so
 * they are copied into strings[0..cap): out's string pointers point there.
 * Returns 0; HV_EINVAL when a pointer leads outside what map allows, a
 * string is unterminated or a memory map entry is cut short; HV_ERANGE when
 * modules, map entries or string bytes exceed what out and strings hold.
 */
int mb1_parse(mb1_map_fn map, void *ctx, uint64_t info_pa, struct mb2_info *out, char *strings, size_t cap);

#endif

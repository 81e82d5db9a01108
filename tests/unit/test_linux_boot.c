/* Unit tests for kernel/core/linux_boot.c: the setup header, the memory plan and the zero page. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/core/linux_boot.h"
#include "kernel/lib/err.h"
#include "tests/unit/check_run.h"

#define IMG_LEN (64 * 1024)
#define MIB (1024ull * 1024)

static uint8_t img[IMG_LEN];

static void put16(uint8_t *p, size_t off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }
static uint32_t get32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t get64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

/* A bzImage's header as Debian's 6.1 kernel has it, over a small file: 39 setup sectors. */
static void img_make(void)
{
	memset(img, 0, sizeof(img));
	img[LINUX_HDR_SETUP_SECTS] = 39;
	put32(img, LINUX_HDR_SYSSIZE, (IMG_LEN - 40 * 512) / 16);
	img[LINUX_HDR_JUMP] = 0xeb;
	img[LINUX_HDR_JUMP + 1] = 0x6a; /* header ends at 0x26c */
	put32(img, LINUX_HDR_MAGIC, LINUX_HDR_MAGIC_VALUE);
	put16(img, LINUX_HDR_VERSION, 0x20f);
	img[LINUX_HDR_LOADFLAGS] = LINUX_LOADFLAGS_LOADED_HIGH;
	put32(img, LINUX_HDR_CODE32_START, 0x100000);
	put32(img, LINUX_HDR_INITRD_ADDR_MAX, 0x7fffffff);
	put32(img, LINUX_HDR_KERNEL_ALIGNMENT, 0x200000);
	img[LINUX_HDR_RELOCATABLE] = 1;
	put32(img, LINUX_HDR_CMDLINE_SIZE, 0x7ff);
	put64(img, LINUX_HDR_PREF_ADDRESS, 0x1000000);
	put32(img, LINUX_HDR_INIT_SIZE, 0x3378000);
	img[0x26b] = 0x5a; /* the header's last byte, to see it copied */
}

static struct linux_image parsed(void)
{
	struct linux_image k;

	ck_assert_int_eq(linux_parse(img, IMG_LEN, &k), HV_OK);
	return k;
}

START_TEST(test_parse_header)
{
	struct linux_image k;

	img_make();
	ck_assert(linux_is_bzimage(img, IMG_LEN));
	k = parsed();
	ck_assert_uint_eq(k.version, 0x20f);
	ck_assert_uint_eq(k.setup_len, 40 * 512);
	ck_assert_uint_eq(k.kernel_len, IMG_LEN - 40 * 512);
	ck_assert_uint_eq(k.hdr_end, 0x26c);
	ck_assert_uint_eq(k.pref_address, 0x1000000);
	ck_assert_uint_eq(k.init_size, 0x3378000);
	ck_assert_uint_eq(k.cmdline_size, 0x7ff);
	ck_assert(k.relocatable);
	/* setup_sects 0 means 4 */
	img[LINUX_HDR_SETUP_SECTS] = 0;
	ck_assert_uint_eq(parsed().setup_len, 5 * 512);
}
END_TEST

START_TEST(test_parse_refuses)
{
	struct linux_image k;

	img_make();
	ck_assert(!linux_is_bzimage(img, 0x205));
	img[LINUX_HDR_MAGIC] = 'X';
	ck_assert(!linux_is_bzimage(img, IMG_LEN));
	ck_assert_int_eq(linux_parse(img, IMG_LEN, &k), HV_EINVAL);
	img_make();
	put16(img, LINUX_HDR_VERSION, 0x209); /* no pref_address, no init_size */
	ck_assert_int_eq(linux_parse(img, IMG_LEN, &k), HV_EINVAL);
	img_make();
	img[LINUX_HDR_LOADFLAGS] = 0; /* a zImage runs below 1 MiB */
	ck_assert_int_eq(linux_parse(img, IMG_LEN, &k), HV_EINVAL);
	img_make();
	put32(img, LINUX_HDR_SYSSIZE, IMG_LEN / 16); /* more code than the file holds */
	ck_assert_int_eq(linux_parse(img, IMG_LEN, &k), HV_EINVAL);
	img_make();
	img[LINUX_HDR_SETUP_SECTS] = 200; /* setup longer than the file */
	ck_assert_int_eq(linux_parse(img, IMG_LEN, &k), HV_EINVAL);
	img_make();
	ck_assert_int_eq(linux_parse(img, 0x240, &k), HV_EINVAL); /* truncated header */
}
END_TEST

START_TEST(test_plan)
{
	struct linux_image k;
	struct linux_layout l;

	img_make();
	k = parsed();
	ck_assert_int_eq(linux_plan(&k, 128 * MIB, 1000000, 100, &l), HV_OK);
	ck_assert_uint_eq(l.kernel_gpa, 0x100000);
	ck_assert_uint_eq(l.initrd_len, 1000000);
	ck_assert_uint_eq(l.initrd_gpa % 4096, 0);
	ck_assert_uint_le(l.initrd_gpa + l.initrd_len, 128 * MIB);
	ck_assert_uint_gt(l.initrd_gpa + 4096 + l.initrd_len, 128 * MIB); /* at the top */
	ck_assert_uint_ge(l.initrd_gpa, 0x1000000 + 0x3378000);    /* clear of the decompression */
	/* No initrd */
	ck_assert_int_eq(linux_plan(&k, 128 * MIB, 0, 100, &l), HV_OK);
	ck_assert_uint_eq(l.initrd_gpa, 0);
	/* Too little RAM for the kernel to decompress, or for the initrd beside it */
	ck_assert_int_eq(linux_plan(&k, 64 * MIB, 0, 100, &l), HV_ERANGE);
	ck_assert_int_eq(linux_plan(&k, 0x1000000 + 0x3378000 + 4096, 8192, 100, &l), HV_ERANGE);
	/* A command line longer than the kernel takes */
	ck_assert_int_eq(linux_plan(&k, 128 * MIB, 0, 0x800, &l), HV_EINVAL);
	/* initrd_addr_max below the top of RAM: the initrd ends below it */
	put32(img, LINUX_HDR_INITRD_ADDR_MAX, 100 * MIB - 1);
	k = parsed();
	ck_assert_int_eq(linux_plan(&k, 128 * MIB, 4096, 10, &l), HV_OK);
	ck_assert_uint_eq(l.initrd_gpa, 100 * MIB - 4096);
}
END_TEST

START_TEST(test_boot_params)
{
	static uint8_t bp[LINUX_BP_SIZE];
	struct linux_image k;
	struct linux_layout l;

	img_make();
	k = parsed();
	ck_assert_int_eq(linux_plan(&k, 128 * MIB, 8192, 10, &l), HV_OK);
	memset(bp, 0xaa, sizeof(bp));
	linux_boot_params(bp, img, &k, &l);
	ck_assert_uint_eq(bp[0], 0);                       /* screen_info and the rest zero */
	ck_assert_uint_eq(bp[LINUX_HDR_SETUP_SECTS], 39);  /* the header copied */
	ck_assert_uint_eq(get32(bp, LINUX_HDR_MAGIC), LINUX_HDR_MAGIC_VALUE);
	ck_assert_uint_eq(bp[0x26b], 0x5a);
	ck_assert_uint_eq(bp[0x26c], 0);                   /* and no further */
	ck_assert_uint_eq(bp[LINUX_HDR_TYPE_OF_LOADER], LINUX_LOADER_UNDEFINED);
	ck_assert_uint_eq(get32(bp, LINUX_HDR_CMD_LINE_PTR), LINUX_CMDLINE_GPA);
	ck_assert_uint_eq(get32(bp, LINUX_HDR_RAMDISK_IMAGE), l.initrd_gpa);
	ck_assert_uint_eq(get32(bp, LINUX_HDR_RAMDISK_SIZE), 8192);
	ck_assert_uint_eq(get32(bp, LINUX_HDR_CODE32_START), 0x100000);
	/* e820: low RAM, the legacy hole, RAM from 1 MiB to the end, nothing else */
	ck_assert_uint_eq(bp[LINUX_BP_E820_ENTRIES], 3);
	ck_assert_uint_eq(get64(bp, LINUX_BP_E820_TABLE), 0);
	ck_assert_uint_eq(get64(bp, LINUX_BP_E820_TABLE + 8), LINUX_LOW_RAM_END);
	ck_assert_uint_eq(get32(bp, LINUX_BP_E820_TABLE + 16), LINUX_E820_RAM);
	ck_assert_uint_eq(get32(bp, LINUX_BP_E820_TABLE + 20 + 16), LINUX_E820_RESERVED);
	ck_assert_uint_eq(get64(bp, LINUX_BP_E820_TABLE + 40), 0x100000);
	ck_assert_uint_eq(get64(bp, LINUX_BP_E820_TABLE + 40 + 8), 127 * MIB);
	ck_assert_uint_eq(get32(bp, LINUX_BP_E820_TABLE + 40 + 16), LINUX_E820_RAM);
	ck_assert_uint_eq(get64(bp, LINUX_BP_E820_TABLE + 60 + 8), 0);
}
END_TEST

START_TEST(test_gdt)
{
	uint64_t gdt[LINUX_GDT_ENTRIES];

	linux_boot_gdt(gdt);
	ck_assert_uint_eq(gdt[0], 0);
	/* base 0, limit 4 GiB, present, code execute/read, 32-bit, 4 KiB granularity */
	ck_assert_uint_eq(gdt[LINUX_BOOT_CS / 8], 0x00cf9a000000ffffull);
	ck_assert_uint_eq(gdt[LINUX_BOOT_DS / 8], 0x00cf92000000ffffull);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("linux_boot");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_header);
	tcase_add_test(tc, test_parse_refuses);
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_boot_params);
	tcase_add_test(tc, test_gdt);
	suite_add_tcase(s, tc);
	return check_run(s);
}

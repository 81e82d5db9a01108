/* Unit tests for PAGE_DATA received in place (codec.h, migr_dec_place): where pages land, what is refused. */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include "kernel/lib/err.h"
#include "migration/codec.h"
#include "migration/xxh.h"
#include "tests/unit/check_run.h"

#define VM_PAGES 64u

static uint8_t wire[2 * MIGR_REC_MAX];
static uint8_t dbuf[MIGR_REC_MAX];
static uint8_t vm[VM_PAGES * MIGR_PAGE_SIZE];
static uint8_t pbody[MIGR_BODY_MAX];
static size_t wlen;
static struct migr_tx tx;
static struct migr_dec dec;
static struct migr_mac mac = { .ops = &migr_mac_unsound_test_ops, .key = { 9, 8, 7 } };
static uint32_t placed; /* calls of the placer */

/* The VM's memory as a receiver offers it: in range or not at all. */
static uint8_t *place(void *ctx, uint64_t gfn, uint32_t count)
{
	(void)ctx;
	placed++;
	if (gfn >= VM_PAGES || count > VM_PAGES - gfn)
		return NULL;
	return vm + gfn * MIGR_PAGE_SIZE;
}

static void start(int with_placer)
{
	migr_tx_init(&tx, 1, MIGR_DIR_A_TO_B);
	migr_tx_key(&tx, &mac);
	migr_dec_init(&dec, dbuf, sizeof(dbuf), MIGR_CONN_DATA, 1, MIGR_DIR_A_TO_B);
	migr_dec_key(&dec, &mac);
	if (with_placer)
		migr_dec_place(&dec, place, NULL);
	memset(vm, 0, sizeof(vm));
	memset(dbuf, 0xa5, sizeof(dbuf)); /* what the decoder's buffer holds where nothing was read */
	placed = 0;
	wlen = migr_enc_preamble(wire, sizeof(wire));
}

/* One PAGE_DATA record of count pages from gfn on the wire; the byte of its first page at `flip` is
 * changed after the tag (flip < 0: none), its hashes still those of the pages as sent. */
static void put_pages(uint64_t gfn, uint32_t count, long flip)
{
	struct migr_page_data h = { .gfn = gfn, .count = count, .pass = 1 };
	uint8_t *data = pbody + sizeof(h) + count * 8;
	size_t page_off;
	uint64_t hash;
	uint32_t i;
	long n;

	memcpy(pbody, &h, sizeof(h));
	for (i = 0; i < count * MIGR_PAGE_SIZE; i++)
		data[i] = (uint8_t)(i * 13 + gfn + 1);
	for (i = 0; i < count; i++) {
		hash = migr_page_hash(data + i * MIGR_PAGE_SIZE);
		memcpy(pbody + sizeof(h) + i * 8, &hash, 8);
	}
	n = migr_enc(&tx, MIGR_REC_PAGE_DATA, pbody, (uint32_t)MIGR_PAGE_DATA_LEN(count), wire + wlen, sizeof(wire) - wlen);
	ck_assert_int_gt(n, 0);
	page_off = wlen + sizeof(struct migr_rec_hdr) + sizeof(h) + count * 8;
	if (flip >= 0)
		wire[page_off + (size_t)flip] ^= 0x40;
	wlen += (size_t)n;
}

/* Feeds the wire in pieces of step bytes through the zero-copy interface; the last rc, *got records. */
static int feed(size_t step, struct migr_rec *rec, int *got)
{
	size_t off = 0, want, k;
	uint8_t *dst;
	int rc = 0;

	*got = 0;
	while (off < wlen) {
		dst = migr_dec_space(&dec, &want);
		if (!want)
			return dec.err;
		k = wlen - off < step ? wlen - off : step;
		k = k < want ? k : want;
		memcpy(dst, wire + off, k);
		off += k;
		rc = migr_dec_commit(&dec, k, rec);
		if (rc < 0)
			return rc;
		*got += rc == 1;
	}
	return rc;
}

/* The pages land in the VM's memory, never in the decoder's buffer, whatever the pieces. */
START_TEST(test_pages_in_place)
{
	size_t steps[] = { 1, 7, 8, 4095, 4096, 4097, sizeof(wire) };
	struct migr_page_run v;
	struct migr_rec rec;
	unsigned s;
	int got;

	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		start(1);
		put_pages(5, MIGR_RUN_PAGES_MAX, -1);
		ck_assert_int_eq(feed(steps[s], &rec, &got), 1);
		ck_assert_int_eq(got, 1);
		ck_assert_uint_eq(placed, 1);
		ck_assert_ptr_eq(rec.pages, vm + 5 * MIGR_PAGE_SIZE);
		migr_view_page_data(&rec, &v);
		ck_assert_ptr_eq(v.data, rec.pages);
		ck_assert_uint_eq(v.count, MIGR_RUN_PAGES_MAX);
		ck_assert_mem_eq(vm + 5 * MIGR_PAGE_SIZE, pbody + 16 + MIGR_RUN_PAGES_MAX * 8,
				 (size_t)MIGR_RUN_PAGES_MAX * MIGR_PAGE_SIZE);
		ck_assert_uint_eq(migr_get_u64(v.hashes + 8 * 31), migr_page_hash(v.data + 31 * MIGR_PAGE_SIZE));
		/* Only the head and the tag went through the buffer: past them it holds what it held. */
		for (size_t i = 8 + 16 + MIGR_RUN_PAGES_MAX * 8 + MIGR_TAG_SIZE; i < sizeof(dbuf); i++)
			ck_assert_uint_eq(dbuf[i], 0xa5);
	}
}
END_TEST

/* A page changed after its tag was made: the tag over the pages where they lie refuses the record. */
START_TEST(test_forged_page_refused)
{
	struct migr_rec rec;
	int got;

	start(1);
	put_pages(0, 4, 100);
	ck_assert_int_eq(feed(4096, &rec, &got), HV_EINVAL);
	ck_assert_uint_eq(dec.why, MIGR_ERR_INTEGRITY);
	ck_assert_int_eq(got, 0);
	ck_assert_uint_eq(placed, 1);
	/* The decoder stays failed: nothing more is taken. */
	ck_assert_int_eq(migr_dec_commit(&dec, 0, &rec), HV_EINVAL);
}
END_TEST

/* Where the placer offers no place the record goes through the buffer, with the same checks. */
START_TEST(test_unplaced_goes_through_buffer)
{
	struct migr_page_run v;
	struct migr_rec rec;
	int got;

	start(1);
	put_pages(VM_PAGES - 1, 2, -1); /* its last page is past the VM */
	ck_assert_int_eq(feed(sizeof(wire), &rec, &got), 1);
	ck_assert_uint_eq(placed, 1);
	ck_assert_ptr_null(rec.pages);
	migr_view_page_data(&rec, &v);
	ck_assert_uint_eq(v.gfn, VM_PAGES - 1);
	ck_assert_mem_eq(v.data, pbody + 16 + 2 * 8, 2 * MIGR_PAGE_SIZE);
	ck_assert_int_eq(memcmp(vm, (uint8_t[MIGR_PAGE_SIZE]){ 0 }, MIGR_PAGE_SIZE), 0);
	/* Forged and unplaced: refused as ever. */
	start(1);
	put_pages(VM_PAGES, 1, 0);
	ck_assert_int_eq(feed(sizeof(wire), &rec, &got), HV_EINVAL);
	ck_assert_uint_eq(dec.why, MIGR_ERR_INTEGRITY);
	/* Without a placer nothing is placed. */
	start(0);
	put_pages(3, 3, -1);
	ck_assert_int_eq(feed(100, &rec, &got), 1);
	ck_assert_uint_eq(placed, 0);
	ck_assert_ptr_null(rec.pages);
}
END_TEST

/* Records in place and in the buffer follow each other, the sequence numbers in the tags kept. */
START_TEST(test_sequence_across_records)
{
	struct migr_rec rec;
	int got, i;

	start(1);
	for (i = 0; i < 6; i++)
		put_pages(i % 2 ? VM_PAGES + 1 : (uint64_t)i * 8, 1 + (uint32_t)i, -1);
	ck_assert_int_eq(feed(3000, &rec, &got), 1);
	ck_assert_int_eq(got, 6);
	ck_assert_uint_eq(dec.records, 6);
	ck_assert_uint_eq(placed, 6);
	ck_assert_uint_eq(dec.seq, 6);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("migr_inplace");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pages_in_place);
	tcase_add_test(tc, test_forged_page_refused);
	tcase_add_test(tc, test_unplaced_goes_through_buffer);
	tcase_add_test(tc, test_sequence_across_records);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}

/*
 * libFuzzer target for migration/codec.c's decoder. Input: byte 0 picks
 * the connection kind (bit 0: data), the direction (bit 1: B to A) and
 * whether the decoder is keyed (bit 2); byte 1 the size of the pieces the
 * rest is fed in (0: all at once). Keyed decoding uses a MAC whose tag is
 * always zero, so that the fuzzer reaches every record's body checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "migration/codec.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void z_init(struct migr_mac_state *st, const uint8_t key[MIGR_KEY_SIZE], const uint8_t nb[16])
{
	(void)st;
	(void)key;
	(void)nb;
}

static void z_update(struct migr_mac_state *st, const void *p, size_t n)
{
	(void)st;
	(void)p;
	(void)n;
}

static void z_final(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE])
{
	(void)st;
	memset(tag, 0, MIGR_TAG_SIZE);
}

static const struct migr_mac_ops zero_mac = { .alg = MIGR_MAC_TEST, .init = z_init, .update = z_update,
					      .final = z_final };
static const struct migr_mac mac = { .ops = &zero_mac };
static uint8_t buf[MIGR_REC_MAX];
static struct migr_dec dec;

/* What must hold for every record the decoder returns. */
static void check(const struct migr_rec *r)
{
	struct migr_page_run v;

	CHECK(r->type > 0 && r->type < MIGR_REC_COUNT);
	CHECK(r->length <= MIGR_BODY_MAX);
	CHECK(r->body >= buf && r->body + r->length <= buf + sizeof(buf));
	CHECK(migr_body_check(r->type, r->body, r->length) == 0);
	if (r->type == MIGR_REC_PAGE_DATA) {
		migr_view_page_data(r, &v);
		CHECK(v.count >= 1 && v.count <= MIGR_RUN_PAGES_MAX);
		CHECK(v.data + (size_t)v.count * MIGR_PAGE_SIZE == r->body + r->length);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct migr_rec rec;
	size_t off = 2, step, k, used;
	int rc = 0;

	if (size < 2)
		return 0;
	migr_dec_init(&dec, buf, sizeof(buf), data[0] & 1 ? MIGR_CONN_DATA : MIGR_CONN_CONTROL,
		      data[0] & 1 ? MIGR_CONN_UNBOUND : 0, data[0] & 2 ? MIGR_DIR_B_TO_A : MIGR_DIR_A_TO_B);
	if (data[0] & 4)
		migr_dec_key(&dec, &mac);
	step = data[1] ? data[1] : size;
	while (off < size && rc >= 0) {
		k = size - off < step ? size - off : step;
		rc = migr_dec_feed(&dec, data + off, k, &used, &rec);
		CHECK(used <= k);
		if (rc == 1)
			check(&rec);
		CHECK(rc < 0 || used > 0);
		off += used;
	}
	/* A failure is sticky. */
	if (rc < 0)
		CHECK(migr_dec_feed(&dec, data, size, &used, &rec) < 0 && dec.why != 0);
	return 0;
}

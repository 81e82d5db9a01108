/* Unit tests for migration/codec.c: round trips, split feeds, and every malformed case refused. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/err.h"
#include "migration/codec.h"
#include "migration/xxh.h"
#include "tests/unit/check_run.h"

static uint8_t wire[4 * MIGR_REC_MAX];
static uint8_t dbuf[MIGR_REC_MAX];
static size_t wlen;
static struct migr_tx tx;
static struct migr_dec dec;
static struct migr_mac mac = { .ops = &migr_mac_unsound_test_ops, .key = { 1, 2, 3, 4, 5 } };

/* A keyed A->B stream on connection conn of the given kind, preamble already written. */
static void start(uint32_t kind, uint32_t conn, int keyed)
{
	migr_tx_init(&tx, conn, MIGR_DIR_A_TO_B);
	migr_dec_init(&dec, dbuf, sizeof(dbuf), kind, conn, MIGR_DIR_A_TO_B);
	if (keyed) {
		migr_tx_key(&tx, &mac);
		migr_dec_key(&dec, &mac);
	}
	wlen = migr_enc_preamble(wire, sizeof(wire));
	ck_assert_uint_eq(wlen, 16);
}

static void put(uint32_t type, const void *body, uint32_t len)
{
	long n = migr_enc(&tx, type, body, len, wire + wlen, sizeof(wire) - wlen);

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq((size_t)n % 8, 0);
	ck_assert_uint_eq((size_t)n, MIGR_REC_SIZE(len));
	wlen += (size_t)n;
}

/* Feeds wire[from..wlen) in pieces of at most step bytes; collects records; returns the last rc. */
static int run(size_t from, size_t step, struct migr_rec *out, int max, int *got)
{
	size_t off = from, used, k;
	int rc = 0;

	*got = 0;
	while (off < wlen) {
		k = wlen - off < step ? wlen - off : step;
		rc = migr_dec_feed(&dec, wire + off, k, &used, &out[*got < max ? *got : max - 1]);
		if (rc < 0)
			return rc;
		off += used;
		if (rc == 1)
			(*got)++;
	}
	return rc < 0 ? rc : 0;
}

static int decode_all(struct migr_rec *out, int max, int *got)
{
	return run(0, wlen, out, max, got);
}

/* A page-data body with count pages of a pattern and their hashes. */
static uint8_t pbody[MIGR_BODY_MAX];
static uint32_t make_pages(uint64_t gfn, uint32_t count, uint32_t pass)
{
	struct migr_page_data h = { .gfn = gfn, .count = count, .pass = pass };
	uint8_t *data = pbody + sizeof(h) + count * 8;
	uint64_t hash;
	uint32_t i;

	memcpy(pbody, &h, sizeof(h));
	for (i = 0; i < count * MIGR_PAGE_SIZE; i++)
		data[i] = (uint8_t)(i * 7 + gfn);
	for (i = 0; i < count; i++) {
		hash = migr_page_hash(data + i * MIGR_PAGE_SIZE);
		memcpy(pbody + sizeof(h) + i * 8, &hash, 8);
	}
	return (uint32_t)MIGR_PAGE_DATA_LEN(count);
}

START_TEST(test_round_trip_split)
{
	struct migr_pass_end pe = { .pass = 3, .pages = 77 };
	struct migr_rec recs[8];
	struct migr_page_run v;
	size_t steps[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 4095, 4096, 4097, 65536, sizeof(wire) };
	uint32_t plen = 0;
	unsigned s;
	int got;

	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		start(MIGR_CONN_DATA, 2, 1);
		plen = make_pages(100, MIGR_RUN_PAGES_MAX, 3);
		put(MIGR_REC_PAGE_DATA, pbody, plen);
		put(MIGR_REC_ZERO_PAGES, (uint32_t[]){ 1, 3, 5, 0 }, MIGR_ZERO_PAGES_LEN(1));
		put(MIGR_REC_PASS_END, &pe, sizeof(pe));
		put(MIGR_REC_ERROR, (uint8_t[]){ 7, 0, 0, 0, 3, 0, 0, 0, 'b', 'y', 'e' }, 11);
		put(MIGR_REC_END, NULL, 0);
		ck_assert_int_eq(run(0, steps[s], recs, 8, &got), 0);
		ck_assert_int_eq(got, 5);
		ck_assert_uint_eq(recs[0].type, MIGR_REC_PAGE_DATA);
		ck_assert_uint_eq(recs[1].type, MIGR_REC_ZERO_PAGES);
		ck_assert_uint_eq(recs[2].type, MIGR_REC_PASS_END);
		ck_assert_uint_eq(recs[3].type, MIGR_REC_ERROR);
		ck_assert_uint_eq(recs[3].length, 11);
		ck_assert_uint_eq(recs[4].type, MIGR_REC_END);
		ck_assert_uint_eq(dec.records, 5);
	}
	/* With one record per feed the body is still in the buffer: check the page view. */
	start(MIGR_CONN_DATA, 2, 1);
	put(MIGR_REC_PAGE_DATA, pbody, plen);
	ck_assert_int_eq(decode_all(recs, 1, &got), 0);
	ck_assert_int_eq(got, 1);
	ck_assert_mem_eq(recs[0].body, pbody, plen);
	migr_view_page_data(&recs[0], &v);
	ck_assert_uint_eq(v.gfn, 100);
	ck_assert_uint_eq(v.count, MIGR_RUN_PAGES_MAX);
	ck_assert_uint_eq(v.pass, 3);
	ck_assert_uint_eq(migr_get_u64(v.hashes + 8 * 5), migr_page_hash(v.data + 5 * MIGR_PAGE_SIZE));
}
END_TEST

/* The zero-copy path delivers the same records as the copying one. */
START_TEST(test_space_commit)
{
	struct migr_rec rec;
	size_t off = 16, n;
	uint8_t *dst;
	int rc, got = 0;

	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_REC_PASS_BEGIN, &(struct migr_pass_begin){ .pass = 1, .flags = MIGR_PASS_FINAL, .pages = 9 }, 16);
	put(MIGR_REC_DIGEST, &(struct migr_digest){ .digest = 42, .pages = 9 }, 16);
	dst = migr_dec_space(&dec, &n);
	ck_assert_uint_eq(n, 16);
	memcpy(dst, wire, 16);
	ck_assert_int_eq(migr_dec_commit(&dec, 16, &rec), 0);
	ck_assert_uint_eq(dec.version, MIGR_VERSION);
	while (off < wlen) {
		dst = migr_dec_space(&dec, &n);
		ck_assert_uint_gt(n, 0);
		n = n > 5 ? 5 : n;
		memcpy(dst, wire + off, n);
		off += n;
		rc = migr_dec_commit(&dec, n, &rec);
		ck_assert_int_ge(rc, 0);
		got += rc;
		if (rc == 1 && got == 2)
			ck_assert_uint_eq(migr_get_u64(rec.body), 42);
	}
	ck_assert_int_eq(got, 2);
	/* Committing more than was offered is refused. */
	migr_dec_space(&dec, &n);
	ck_assert_int_lt(migr_dec_commit(&dec, n + 1, &rec), 0);
}
END_TEST

START_TEST(test_preamble_refused)
{
	struct migr_rec r[1];
	int got;

	start(MIGR_CONN_CONTROL, 0, 0);
	wire[0] = 'X';
	ck_assert_int_lt(decode_all(r, 1, &got), 0);
	ck_assert_uint_eq(dec.why, MIGR_ERR_PROTOCOL);
	start(MIGR_CONN_CONTROL, 0, 0);
	wire[8] = MIGR_VERSION + 1;
	ck_assert_int_lt(decode_all(r, 1, &got), 0);
	ck_assert_uint_eq(dec.why, MIGR_ERR_VERSION);
	start(MIGR_CONN_CONTROL, 0, 0);
	wire[8] = 0;
	ck_assert_int_lt(decode_all(r, 1, &got), 0);
	ck_assert_uint_eq(dec.why, MIGR_ERR_VERSION);
	start(MIGR_CONN_CONTROL, 0, 0);
	wire[13] = 1;
	ck_assert_int_lt(decode_all(r, 1, &got), 0);
	/* Errors are sticky: a good record after a failure is not accepted. */
	ck_assert_int_lt(migr_dec_feed(&dec, wire, 16, &(size_t){ 0 }, r), 0);
}
END_TEST

/* Unknown mandatory fails; unknown optional is skipped (after its tag verifies). */
START_TEST(test_unknown_types)
{
	struct migr_rec r[2];
	int got;

	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_OPTIONAL | 999, "abc", 3);
	put(MIGR_REC_COMMIT, NULL, 0);
	ck_assert_int_eq(decode_all(r, 2, &got), 0);
	ck_assert_int_eq(got, 1);
	ck_assert_uint_eq(r[0].type, MIGR_REC_COMMIT);
	ck_assert_uint_eq(dec.skipped, 1);

	start(MIGR_CONN_CONTROL, 0, 1);
	put(999, "abc", 3);
	ck_assert_int_lt(decode_all(r, 2, &got), 0);
	ck_assert_uint_eq(dec.why, MIGR_ERR_PROTOCOL);
	start(MIGR_CONN_CONTROL, 0, 1);
	put(0, NULL, 0);
	ck_assert_int_lt(decode_all(r, 2, &got), 0);
	/* An optional record is no way around the key. */
	start(MIGR_CONN_CONTROL, 0, 0);
	put(MIGR_OPTIONAL | 999, "abc", 3);
	ck_assert_int_lt(decode_all(r, 2, &got), 0);
}
END_TEST

/* Tampering with any covered byte, replaying, reordering or moving a record breaks its tag. */
START_TEST(test_mac_refusals)
{
	struct migr_rec r[4];
	size_t first, pos;
	int got;
	uint8_t save[64];

	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_REC_COMMIT, NULL, 0);
	ck_assert_int_eq(decode_all(r, 4, &got), 0);
	ck_assert_int_eq(got, 1);
	for (pos = 16; pos < wlen; pos++) {
		start(MIGR_CONN_CONTROL, 0, 1);
		put(MIGR_REC_DIGEST, &(struct migr_digest){ .digest = 5, .pages = 1 }, 16);
		wire[pos] ^= 0x10;
		ck_assert_int_lt(decode_all(r, 4, &got), 0);
		ck_assert_int_eq(got, 0);
	}
	/* Replay: the same record twice. */
	start(MIGR_CONN_CONTROL, 0, 1);
	first = wlen;
	put(MIGR_REC_COMMIT, NULL, 0);
	memcpy(wire + wlen, wire + first, wlen - first);
	wlen += wlen - first;
	ck_assert_int_lt(decode_all(r, 4, &got), 0);
	ck_assert_int_eq(got, 1);
	ck_assert_uint_eq(dec.why, MIGR_ERR_INTEGRITY);
	/* Reorder: swap two records of equal size. */
	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_REC_COMMIT, NULL, 0);
	put(MIGR_REC_END, NULL, 0);
	memcpy(save, wire + 16, 24);
	memcpy(wire + 16, wire + 40, 24);
	memcpy(wire + 40, save, 24);
	ck_assert_int_lt(decode_all(r, 4, &got), 0);
	ck_assert_int_eq(got, 0);
	/* A record made for data connection 2 does not verify on connection 3. */
	start(MIGR_CONN_DATA, 2, 1);
	put(MIGR_REC_PASS_END, &(struct migr_pass_end){ .pass = 1, .pages = 1 }, 16);
	migr_dec_init(&dec, dbuf, sizeof(dbuf), MIGR_CONN_DATA, 3, MIGR_DIR_A_TO_B);
	migr_dec_key(&dec, &mac);
	ck_assert_int_lt(decode_all(r, 4, &got), 0);
	/* The other key. */
	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_REC_COMMIT, NULL, 0);
	{
		struct migr_mac other = mac;

		other.key[0] ^= 1;
		migr_dec_init(&dec, dbuf, sizeof(dbuf), MIGR_CONN_CONTROL, 0, MIGR_DIR_A_TO_B);
		migr_dec_key(&dec, &other);
		ck_assert_int_lt(decode_all(r, 4, &got), 0);
		ck_assert_uint_eq(dec.why, MIGR_ERR_INTEGRITY);
	}
}
END_TEST

/* Before the key only HELLO, AUTH and ERROR with zero tags; CONN_BIND binds its own index. */
START_TEST(test_unkeyed_and_bind)
{
	struct migr_hello h = { .version = MIGR_VERSION, .mac_alg = MIGR_MAC_TEST };
	struct migr_conn_bind cb = { .index = 4 };
	struct migr_rec r[2];
	int got;

	start(MIGR_CONN_CONTROL, 0, 0);
	put(MIGR_REC_HELLO, &h, sizeof(h));
	put(MIGR_REC_AUTH, h.nonce, sizeof(struct migr_auth));
	ck_assert_int_eq(decode_all(r, 2, &got), 0);
	ck_assert_int_eq(got, 2);
	start(MIGR_CONN_CONTROL, 0, 0);
	put(MIGR_REC_HELLO, &h, sizeof(h));
	wire[wlen - 1] = 1;
	ck_assert_int_lt(decode_all(r, 2, &got), 0);
	ck_assert_uint_eq(dec.why, MIGR_ERR_AUTH);
	start(MIGR_CONN_CONTROL, 0, 0);
	put(MIGR_REC_COMMIT, NULL, 0);
	ck_assert_int_lt(decode_all(r, 2, &got), 0);
	ck_assert_uint_eq(dec.why, MIGR_ERR_AUTH);

	start(MIGR_CONN_DATA, 4, 1);
	migr_dec_init(&dec, dbuf, sizeof(dbuf), MIGR_CONN_DATA, MIGR_CONN_UNBOUND, MIGR_DIR_A_TO_B);
	migr_dec_key(&dec, &mac);
	put(MIGR_REC_CONN_BIND, &cb, sizeof(cb));
	put(MIGR_REC_END, NULL, 0);
	ck_assert_int_eq(decode_all(r, 2, &got), 0);
	ck_assert_int_eq(got, 2);
	ck_assert_uint_eq(dec.conn, 4);
	/* A bind tagged for index 4 but naming 5 fails. */
	start(MIGR_CONN_DATA, 4, 1);
	migr_dec_init(&dec, dbuf, sizeof(dbuf), MIGR_CONN_DATA, MIGR_CONN_UNBOUND, MIGR_DIR_A_TO_B);
	migr_dec_key(&dec, &mac);
	put(MIGR_REC_CONN_BIND, &cb, sizeof(cb));
	wire[16 + 8 + 16] = 5;
	ck_assert_int_lt(decode_all(r, 2, &got), 0);
}
END_TEST

/* One record, encoded under the right key, yet malformed: refused with the decoder's reason. */
static void refuse(uint32_t kind, uint32_t type, const void *body, uint32_t len)
{
	struct migr_rec r[1];
	int got;

	start(kind, kind == MIGR_CONN_DATA ? 1 : 0, 1);
	put(type, body, len);
	ck_assert_int_lt(decode_all(r, 1, &got), 0);
	ck_assert_int_eq(got, 0);
}

/* Recomputes the tag of the record at off (sequence seq) over its bytes as they are now. */
static void retag(size_t off, uint32_t conn, uint64_t seq)
{
	struct migr_mac_state st;
	uint8_t nb[16];
	uint32_t len, dir = MIGR_DIR_A_TO_B;
	size_t covered;

	memcpy(&len, wire + off + 4, 4);
	covered = 8 + MIGR_PAD8(len);
	memcpy(nb, &conn, 4);
	memcpy(nb + 4, &dir, 4);
	memcpy(nb + 8, &seq, 8);
	mac.ops->init(&st, &mac, nb);
	mac.ops->update(&st, wire + off, covered);
	mac.ops->final(&st, wire + off + covered);
}

static void refuse_dirty_padding(void)
{
	struct migr_rec r[1];
	int got;

	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_REC_ERROR, (uint8_t[]){ 1, 0, 0, 0, 1, 0, 0, 0, 'x' }, 9);
	retag(16, 0, 0);
	ck_assert_int_eq(decode_all(r, 1, &got), 0);
	ck_assert_int_eq(got, 1);
	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_REC_ERROR, (uint8_t[]){ 1, 0, 0, 0, 1, 0, 0, 0, 'x' }, 9);
	wire[16 + 8 + 9] = 0xee;
	retag(16, 0, 0);
	ck_assert_int_lt(decode_all(r, 1, &got), 0);
	ck_assert_uint_eq(dec.why, MIGR_ERR_PROTOCOL);
}

START_TEST(test_malformed)
{
	struct migr_header hd = { .ram_bytes = 1 << 20, .vcpus = 2, .connections = 4, .tsc_hz = 1000 };
	struct migr_rec r[1];
	uint8_t b[64] = { 0 };
	uint32_t plen;
	int got;

	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_REC_HEADER, &hd, sizeof(hd));
	ck_assert_int_eq(decode_all(r, 1, &got), 0);
	ck_assert_int_eq(got, 1);
	/* Lengths against the type's rule. */
	refuse(MIGR_CONN_CONTROL, MIGR_REC_HEADER, &hd, sizeof(hd) - 8);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_COMMIT, b, 8);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_ACK, b, 4);
	plen = make_pages(0, 2, 1);
	refuse(MIGR_CONN_DATA, MIGR_REC_PAGE_DATA, pbody, plen - 1);
	refuse(MIGR_CONN_DATA, MIGR_REC_PAGE_DATA, pbody, plen - 4104);
	refuse(MIGR_CONN_DATA, MIGR_REC_ZERO_PAGES, (uint32_t[]){ 2, 1, 5, 0 }, MIGR_ZERO_PAGES_LEN(1));
	refuse(MIGR_CONN_DATA, MIGR_REC_ZERO_PAGES, (uint32_t[]){ 0, 1 }, 8);
	/* Reserved and structural fields. */
	hd.reserved = 1;
	refuse(MIGR_CONN_CONTROL, MIGR_REC_HEADER, &hd, sizeof(hd));
	hd.reserved = 0;
	hd.ram_bytes = 4097;
	refuse(MIGR_CONN_CONTROL, MIGR_REC_HEADER, &hd, sizeof(hd));
	hd.ram_bytes = 4096;
	hd.connections = MIGR_CONN_MAX + 1;
	refuse(MIGR_CONN_CONTROL, MIGR_REC_HEADER, &hd, sizeof(hd));
	refuse(MIGR_CONN_DATA, MIGR_REC_PASS_END, &(struct migr_pass_end){ .pass = 1, .reserved = 1 }, 16);
	refuse(MIGR_CONN_DATA, MIGR_REC_PASS_END, &(struct migr_pass_end){ .pass = 0 }, 16);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_PASS_BEGIN, &(struct migr_pass_begin){ .pass = 1, .flags = 2 }, 16);
	refuse(MIGR_CONN_DATA, MIGR_REC_CONN_BIND, &(struct migr_conn_bind){ .index = 0 }, 24);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_ERROR, (uint8_t[]){ 1, 0, 0, 0, 2, 0, 0, 0, 'a', 0 }, 10);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_ERROR, (uint8_t[]){ 1, 0, 0, 0, 3, 0, 0, 0, 'a', 'b' }, 10);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_DEVICE_STATE, (uint32_t[]){ 99, 0, 0, 0, 0, 0 }, 24); /* no such device */
	refuse(MIGR_CONN_CONTROL, MIGR_REC_DEVICE_STATE, (uint32_t[]){ MIGR_DEV_PIC8259_PAIR, 0, 0, 0, 0 }, 20);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_DEVICE_STATE, (uint32_t[]){ MIGR_DEV_PIC8259_PAIR, 1, 0, 0, 0, 0 }, 24);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_DEVICE_STATE, (uint32_t[]){ MIGR_DEV_PIC8259_PAIR, 0, 0, 1u << 24, 0, 0 }, 24);
	{
		/* Each device's reserved bytes, and the PIT's tail. */
		uint8_t dev[8 + sizeof(struct migr_pit)] = { 0 };

		dev[0] = MIGR_DEV_PIT8254;
		dev[8 + offsetof(struct migr_pit, reserved) + 5] = 1;
		refuse(MIGR_CONN_CONTROL, MIGR_REC_DEVICE_STATE, dev, sizeof(dev));
		memset(dev, 0, sizeof(dev));
		dev[0] = MIGR_DEV_PIT8254;
		dev[8 + offsetof(struct migr_pit, ch[1].reserved)] = 1;
		refuse(MIGR_CONN_CONTROL, MIGR_REC_DEVICE_STATE, dev, sizeof(dev));
		memset(dev, 0, sizeof(dev));
		dev[0] = MIGR_DEV_UART16550A;
		dev[8 + offsetof(struct migr_uart16550a, reserved) + 6] = 1;
		refuse(MIGR_CONN_CONTROL, MIGR_REC_DEVICE_STATE, dev, 8 + sizeof(struct migr_uart16550a));
	}
	refuse(MIGR_CONN_CONTROL, MIGR_REC_TIME, &(struct migr_time){ .tsc_hz = 0 }, 24);
	/* Wrong connection, wrong direction. */
	refuse(MIGR_CONN_CONTROL, MIGR_REC_PASS_END, &(struct migr_pass_end){ .pass = 1 }, 16);
	refuse(MIGR_CONN_DATA, MIGR_REC_PASS_BEGIN, &(struct migr_pass_begin){ .pass = 1 }, 16);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_READY, NULL, 0);
	/* A length beyond the largest body is refused from the header alone. */
	start(MIGR_CONN_DATA, 1, 1);
	memcpy(wire + 16, (uint32_t[]){ MIGR_REC_PAGE_DATA, MIGR_BODY_MAX + 4104 }, 8);
	wlen = 24;
	ck_assert_int_lt(decode_all(r, 1, &got), 0);
	/* Non-zero padding, even under a valid tag. */
	refuse_dirty_padding();
}
END_TEST

/* VCPU_STATE sub-records: a full valid set, then each way to break it. */
static uint32_t make_vcpu(uint8_t *b, int variant)
{
	uint32_t off = 8, n = 0;
	struct migr_msrs m = { .n = 2 };

#define SUB(t, len)                                                                  \
	do {                                                                         \
		memcpy(b + off, (uint32_t[]){ (t), (len) }, 8);                      \
		memset(b + off + 8, 0x11, MIGR_PAD8(len));                           \
		off += 8 + (uint32_t)MIGR_PAD8(len);                                 \
		n++;                                                                 \
	} while (0)
	SUB(MIGR_SUB_GPRS, sizeof(struct migr_gprs));
	SUB(MIGR_SUB_SEGMENTS, sizeof(struct migr_segments));
	SUB(MIGR_SUB_CONTROL, variant == 1 ? 40 : sizeof(struct migr_control));
	SUB(MIGR_SUB_FPU, sizeof(struct migr_fpu));
	SUB(variant == 2 ? MIGR_SUB_FPU : MIGR_SUB_DEBUG, sizeof(struct migr_debug));
	SUB(MIGR_SUB_MSRS, sizeof(m) + 2 * sizeof(struct migr_msr));
	memcpy(b + off - 2 * sizeof(struct migr_msr) - sizeof(m), &m, sizeof(m));
	if (variant == 3)
		b[off - 2 * sizeof(struct migr_msr) - sizeof(m)] = 3;
	SUB(variant == 4 ? 9 : MIGR_SUB_EVENTS, sizeof(struct migr_events));
#undef SUB
	memcpy(b, (uint32_t[]){ 1, variant == 5 ? n + 1 : n }, 8);
	return off;
}

START_TEST(test_vcpu_state)
{
	static uint8_t b[MIGR_VCPU_STATE_MAX];
	struct migr_rec r[1];
	uint32_t len;
	int got, v;

	len = make_vcpu(b, 0);
	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_REC_VCPU_STATE, b, len);
	ck_assert_int_eq(decode_all(r, 1, &got), 0);
	ck_assert_int_eq(got, 1);
	for (v = 1; v <= 5; v++) {
		len = make_vcpu(b, v);
		refuse(MIGR_CONN_CONTROL, MIGR_REC_VCPU_STATE, b, len);
	}
	/* A padding byte inside a sub-record that is not zero (CONTROL's length 40 + pad). */
	len = make_vcpu(b, 0);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_VCPU_STATE, b, len - 8);
	memcpy(b, (uint32_t[]){ MIGR_VCPUS_MAX, 7 }, 8);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_VCPU_STATE, b, len);
}
END_TEST

/* Random streams of valid records cut at random points always decode to the same records. */
START_TEST(test_random_splits)
{
	struct migr_rec recs[64];
	uint32_t types[64];
	int i, n, got, round;
	size_t off, used, k;

	srand(1234);
	for (round = 0; round < 50; round++) {
		start(MIGR_CONN_DATA, 1, 1);
		n = 1 + rand() % 20;
		for (i = 0; i < n; i++) {
			if (rand() % 2) {
				put(MIGR_REC_PAGE_DATA, pbody, make_pages((uint64_t)rand() % 1000, 1 + rand() % 4, 2));
				types[i] = MIGR_REC_PAGE_DATA;
			} else {
				put(MIGR_REC_PASS_END, &(struct migr_pass_end){ .pass = 2, .pages = (uint64_t)i }, 16);
				types[i] = MIGR_REC_PASS_END;
			}
		}
		got = 0;
		off = 0;
		while (off < wlen) {
			k = 1 + (size_t)rand() % 9000;
			k = k > wlen - off ? wlen - off : k;
			while (k) {
				int rc = migr_dec_feed(&dec, wire + off, k, &used, &recs[got]);

				ck_assert_msg(rc >= 0, "rc %d why %u round %d got %d type %x len %u", rc, dec.why, round, got, dec.type, dec.length);
				if (rc == 1) {
					ck_assert_uint_eq(recs[got].type, types[got]);
					if (types[got] == MIGR_REC_PASS_END)
						ck_assert_uint_eq(migr_get_u64(recs[got].body + 8), (uint64_t)got);
					got++;
				}
				off += used;
				k -= used;
			}
		}
		ck_assert_int_eq(got, n);
	}
}
END_TEST

START_TEST(test_small_buffer_refused)
{
	static uint8_t small[64], ctl[MIGR_REC_SIZE(MIGR_DEC_MIN_BODY)];
	struct migr_rec r[2];
	size_t n;
	int got;

	migr_dec_init(&dec, small, sizeof(small), MIGR_CONN_DATA, 1, MIGR_DIR_A_TO_B);
	ck_assert_int_lt(dec.err, 0);
	migr_dec_space(&dec, &n);
	ck_assert_uint_eq(n, 0);
	/* A small buffer takes small records and refuses a large one from its header. */
	start(MIGR_CONN_DATA, 1, 1);
	put(MIGR_REC_PASS_END, &(struct migr_pass_end){ .pass = 1 }, 16);
	put(MIGR_REC_PAGE_DATA, pbody, make_pages(0, 1, 1));
	migr_dec_init(&dec, ctl, sizeof(ctl), MIGR_CONN_DATA, 1, MIGR_DIR_A_TO_B);
	migr_dec_key(&dec, &mac);
	ck_assert_int_eq(decode_all(r, 2, &got), HV_ERANGE);
	ck_assert_int_eq(got, 1);
	ck_assert_ptr_null(migr_enc_open(small, sizeof(small), MIGR_REC_PAGE_DATA, 4096));
	ck_assert_int_eq(migr_enc(&tx, MIGR_REC_END, NULL, 0, small, 23), HV_ERANGE);
}
END_TEST

/*
 * PROGRESS goes from B to A on control, with the OPTIONAL bit so that a
 * source predating it skips it; this build decodes it as a known record
 * and holds it to its rules like any other.
 */
START_TEST(test_progress_record)
{
	struct migr_progress pr = { .data_bytes = 0x123456789ull };
	struct migr_rec r[1];
	int got;

	migr_tx_init(&tx, 0, MIGR_DIR_B_TO_A);
	migr_dec_init(&dec, dbuf, sizeof(dbuf), MIGR_CONN_CONTROL, 0, MIGR_DIR_B_TO_A);
	migr_tx_key(&tx, &mac);
	migr_dec_key(&dec, &mac);
	wlen = migr_enc_preamble(wire, sizeof(wire));
	put(MIGR_REC_PROGRESS | MIGR_OPTIONAL, &pr, sizeof(pr));
	ck_assert_int_eq(decode_all(r, 1, &got), 0);
	ck_assert_int_eq(got, 1);
	ck_assert_uint_eq(r[0].type, MIGR_REC_PROGRESS);
	ck_assert_uint_eq(r[0].length, 8);
	ck_assert_uint_eq(migr_get_u64(r[0].body), pr.data_bytes);
	ck_assert_uint_eq(dec.skipped, 0);
	ck_assert_str_eq(migr_rec_type_str(MIGR_REC_PROGRESS | MIGR_OPTIONAL), "PROGRESS");
	/* Only B sends it, only on control, only 8 bytes. */
	refuse(MIGR_CONN_CONTROL, MIGR_REC_PROGRESS | MIGR_OPTIONAL, &pr, sizeof(pr));
	refuse(MIGR_CONN_DATA, MIGR_REC_PROGRESS | MIGR_OPTIONAL, &pr, sizeof(pr));
	migr_tx_init(&tx, 0, MIGR_DIR_B_TO_A);
	migr_dec_init(&dec, dbuf, sizeof(dbuf), MIGR_CONN_CONTROL, 0, MIGR_DIR_B_TO_A);
	migr_tx_key(&tx, &mac);
	migr_dec_key(&dec, &mac);
	wlen = migr_enc_preamble(wire, sizeof(wire));
	put(MIGR_REC_PROGRESS | MIGR_OPTIONAL, (uint64_t[]){ 1, 2 }, 16);
	ck_assert_int_lt(decode_all(r, 1, &got), 0);
	ck_assert_uint_eq(dec.why, MIGR_ERR_PROTOCOL);
}
END_TEST

/* RESUMED: the source's word that it called its pause off; empty, on control, from A only. */
START_TEST(test_resumed_record)
{
	struct migr_rec r[1];
	int got;

	start(MIGR_CONN_CONTROL, 0, 1);
	put(MIGR_REC_RESUMED, NULL, 0);
	ck_assert_int_eq(decode_all(r, 1, &got), 0);
	ck_assert_int_eq(got, 1);
	ck_assert_uint_eq(r[0].type, MIGR_REC_RESUMED);
	ck_assert_uint_eq(r[0].length, 0);
	ck_assert_str_eq(migr_rec_type_str(MIGR_REC_RESUMED), "RESUMED");
	refuse(MIGR_CONN_DATA, MIGR_REC_RESUMED, NULL, 0);
	refuse(MIGR_CONN_CONTROL, MIGR_REC_RESUMED, (uint64_t[]){ 0 }, 8);
	migr_tx_init(&tx, 0, MIGR_DIR_B_TO_A);
	migr_dec_init(&dec, dbuf, sizeof(dbuf), MIGR_CONN_CONTROL, 0, MIGR_DIR_B_TO_A);
	migr_tx_key(&tx, &mac);
	migr_dec_key(&dec, &mac);
	wlen = migr_enc_preamble(wire, sizeof(wire));
	put(MIGR_REC_RESUMED, NULL, 0);
	ck_assert_int_lt(decode_all(r, 1, &got), 0);
}
END_TEST

START_TEST(test_error_names)
{
	ck_assert_str_eq(migr_error_str(MIGR_ERR_RANGE), "range");
	ck_assert_str_eq(migr_error_str(MIGR_ERR_INTERNAL), "internal");
	ck_assert_str_eq(migr_error_str(0), "none");
	ck_assert_str_eq(migr_error_str(MIGR_ERR_INTERNAL + 1), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migr_stream");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_round_trip_split);
	tcase_add_test(tc, test_space_commit);
	tcase_add_test(tc, test_preamble_refused);
	tcase_add_test(tc, test_unknown_types);
	tcase_add_test(tc, test_mac_refusals);
	tcase_add_test(tc, test_unkeyed_and_bind);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_vcpu_state);
	tcase_add_test(tc, test_random_splits);
	tcase_add_test(tc, test_small_buffer_refused);
	tcase_add_test(tc, test_progress_record);
	tcase_add_test(tc, test_resumed_record);
	tcase_add_test(tc, test_error_names);
	suite_add_tcase(s, tc);
	return check_run(s);
}

/*
 * The Poly1305 implementation this binary links (migration/mac_poly.h: one
 * per build, so this file is built once per implementation) against RFC
 * 8439's vectors and against mbed TLS's Poly1305, the one the stream's tags
 * were defined with: random keys, lengths and nonce blocks, records fed in
 * arbitrary pieces (empty and single-byte ones too) from unaligned
 * addresses. Equal tags everywhere is what keeps the wire format unchanged
 * between the hypervisor's and ferry-migrate's implementations. All of it
 * runs once for each code path of the implementation this CPU can run
 * (tests/unit/poly_paths.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit_hex.h"
#include "migration/mac.h"
#include "migration/mac_poly.h"
#include "mbedtls/chacha20.h"
#include "mbedtls/poly1305.h"
#include "tests/unit/check_run.h"
#include "tests/unit/poly_paths.h"

/* A small deterministic generator: the failures it finds can be replayed. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void fill(uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)next();
}

/* Feeds n bytes in random pieces, empty and single-byte ones among them. */
static void update_in_pieces(struct migr_mac_state *st, const uint8_t *p, size_t n,
			     void (*update)(struct migr_mac_state *, const void *, size_t))
{
	size_t at = 0, k;

	while (at < n) {
		switch (next() % 4) {
		case 0:
			k = 0;
			break;
		case 1:
			k = 1;
			break;
		case 2:
			k = next() % 40;
			break;
		default:
			k = next() % 5000;
			break;
		}
		if (k > n - at)
			k = n - at;
		update(st, p + at, k);
		at += k;
	}
}

static void poly_of(const uint8_t otk[32], const uint8_t *p, size_t n, int pieces, uint8_t tag[16])
{
	struct migr_mac_state st;

	memset(&st, 0xa5, sizeof(st)); /* no reliance on a clean state */
	migr_poly_start(&st, otk);
	if (pieces)
		update_in_pieces(&st, p, n, migr_poly_update);
	else
		migr_poly_update(&st, p, n);
	migr_poly_finish(&st, tag);
}

/* RFC 8439 section 2.5.2 and appendix A.3 (test vectors 1 to 11). */
static const char ietf_text[] =
	"Any submission to the IETF intended by the Contributor for publication as all or part of an IETF "
	"Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an "
	"\"IETF Contribution\". Such statements include oral statements in IETF sessions, as well as written and "
	"electronic communications made at any time or place, which are addressed to";
static const char jabberwocky[] = "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\n"
				  "All mimsy were the borogoves,\nAnd the mome raths outgrabe.";
static const struct {
	const char *key, *text, *hex, *tag;
	size_t zeros; /* when text and hex are NULL: this many zero bytes */
} rfc8439[] = {
	{ "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", "Cryptographic Forum Research Group",
	  NULL, "a8061dc1305136c6c22b8baf0c0127a9", 0 },
	{ "0000000000000000000000000000000000000000000000000000000000000000", NULL, NULL,
	  "00000000000000000000000000000000", 64 },
	{ "0000000000000000000000000000000036e5f6b5c5e06070f0efca96227a863e", ietf_text, NULL,
	  "36e5f6b5c5e06070f0efca96227a863e", 0 },
	{ "36e5f6b5c5e06070f0efca96227a863e00000000000000000000000000000000", ietf_text, NULL,
	  "f3477e7cd95417af89a6b8794c310cf0", 0 },
	{ "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", jabberwocky, NULL,
	  "4541669a7eaaee61e708dc7cbcc5eb62", 0 },
	/* Appendix A.3 vectors 5-11: the edge cases of the final reduction modulo 2^130 - 5. */
	{ "0200000000000000000000000000000000000000000000000000000000000000", NULL,
	  "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000", 0 },
	{ "02000000000000000000000000000000ffffffffffffffffffffffffffffffff", NULL,
	  "02000000000000000000000000000000", "03000000000000000000000000000000", 0 },
	{ "0100000000000000000000000000000000000000000000000000000000000000", NULL,
	  "fffffffffffffffffffffffffffffffff0ffffffffffffffffffffffffffffff11000000000000000000000000000000",
	  "05000000000000000000000000000000", 0 },
	{ "0100000000000000000000000000000000000000000000000000000000000000", NULL,
	  "fffffffffffffffffffffffffffffffffbfefefefefefefefefefefefefefefe01010101010101010101010101010101",
	  "00000000000000000000000000000000", 0 },
	{ "0200000000000000000000000000000000000000000000000000000000000000", NULL,
	  "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff", 0 },
	{ "0100000000000000040000000000000000000000000000000000000000000000", NULL,
	  "e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000"
	  "000000000000000000000000",
	  "14000000000000005500000000000000", 0 },
	{ "0100000000000000040000000000000000000000000000000000000000000000", NULL,
	  "e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000",
	  "13000000000000000000000000000000", 0 },
};

START_TEST(test_rfc8439_vectors)
{
	uint8_t key[32], msg[400] = { 0 }, want[16], tag[16];
	size_t n;

	ck_assert_uint_eq(unit_unhex(rfc8439[_i].key, key), 32);
	if (rfc8439[_i].text) {
		n = strlen(rfc8439[_i].text);
		memcpy(msg, rfc8439[_i].text, n);
	} else if (rfc8439[_i].hex) {
		n = unit_unhex(rfc8439[_i].hex, msg);
	} else {
		n = rfc8439[_i].zeros;
	}
	unit_unhex(rfc8439[_i].tag, want);
	poly_of(key, msg, n, 0, tag);
	ck_assert_msg(memcmp(tag, want, 16) == 0, "vector %d in one piece", _i);
	poly_of(key, msg, n, 1, tag);
	ck_assert_msg(memcmp(tag, want, 16) == 0, "vector %d in pieces", _i);
}
END_TEST

/* Random keys and lengths, from every alignment, whole and in pieces: mbed TLS's tag every time. */
START_TEST(test_matches_mbedtls)
{
	static uint8_t msg[70000 + 16];
	uint8_t key[32], want[16], tag[16];
	int round;

	fill(msg, sizeof(msg));
	for (round = 0; round < 400; round++) {
		size_t align = next() % 16;
		size_t n = round < 300 ? next() % 600 : next() % 70000;

		fill(key, sizeof(key));
		ck_assert_int_eq(mbedtls_poly1305_mac(key, msg + align, n, want), 0);
		poly_of(key, msg + align, n, round % 2, tag);
		ck_assert_msg(memcmp(tag, want, 16) == 0, "round %d: %zu bytes at offset %zu", round, n, align);
	}
}
END_TEST

/*
 * The record MAC on top of it (mac_mbedtls.c): a ChaCha20 one-time key
 * from the nonce block, then Poly1305 over nonce block and record, computed
 * here with mbed TLS alone as the stream defined it before the split.
 */
static void reference_tag(const uint8_t key[32], const uint8_t nb[16], const uint8_t *rec, size_t n,
			  uint8_t tag[16])
{
	static const uint8_t zero[32];
	mbedtls_chacha20_context c;
	mbedtls_poly1305_context p;
	uint32_t counter;
	uint8_t otk[32];

	memcpy(&counter, nb, 4);
	mbedtls_chacha20_init(&c);
	ck_assert_int_eq(mbedtls_chacha20_setkey(&c, key), 0);
	ck_assert_int_eq(mbedtls_chacha20_starts(&c, nb + 4, counter), 0);
	ck_assert_int_eq(mbedtls_chacha20_update(&c, sizeof(zero), zero, otk), 0);
	mbedtls_chacha20_free(&c);
	mbedtls_poly1305_init(&p);
	ck_assert_int_eq(mbedtls_poly1305_starts(&p, otk), 0);
	ck_assert_int_eq(mbedtls_poly1305_update(&p, nb, 16), 0);
	ck_assert_int_eq(mbedtls_poly1305_update(&p, rec, n), 0);
	ck_assert_int_eq(mbedtls_poly1305_finish(&p, tag), 0);
	mbedtls_poly1305_free(&p);
}

START_TEST(test_record_tags_unchanged)
{
	const struct migr_mac_ops *ops = &migr_mac_poly1305_ops;
	static uint8_t rec[140000];
	uint8_t key[32], nb[16], want[16], tag[16];
	struct migr_mac_state st;
	struct migr_mac m;
	int round;

	fill(rec, sizeof(rec));
	for (round = 0; round < 100; round++) {
		size_t align = next() % 16;
		size_t n = round < 60 ? next() % 2000 : next() % (sizeof(rec) - 16);

		fill(key, sizeof(key));
		fill(nb, sizeof(nb));
		reference_tag(key, nb, rec + align, n, want);
		migr_mac_set(&m, ops, key);
		memset(&st, 0x5a, sizeof(st));
		ops->init(&st, &m, nb);
		update_in_pieces(&st, rec + align, n, ops->update);
		ops->final(&st, tag);
		ck_assert_msg(memcmp(tag, want, 16) == 0, "round %d: %zu bytes at offset %zu", round, n, align);
	}
	ck_assert_ptr_eq(migr_mac_find(MIGR_MAC_POLY1305), ops);
	ck_assert_uint_eq(ops->alg, MIGR_MAC_POLY1305);
	ck_assert(migr_poly_impl[0] != '\0');
}
END_TEST

#define PATHS_MAX 8

static Suite *poly_suite(unsigned i, const char *path)
{
	static char names[PATHS_MAX][80]; /* Check keeps the pointer */
	Suite *s;
	TCase *tc = tcase_create("poly");

	snprintf(names[i], sizeof(names[i]), "migr_poly (%s)", path);
	s = suite_create(names[i]);
	tcase_add_loop_test(tc, test_rfc8439_vectors, 0, sizeof(rfc8439) / sizeof(rfc8439[0]));
	tcase_add_test(tc, test_matches_mbedtls);
	tcase_add_test(tc, test_record_tags_unchanged);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	Suite *extra = suite_create("migr_poly");
	unsigned i, n = poly_test_paths();
	int failed = 0;

	printf("Poly1305: %s, %u code path%s on this CPU\n", migr_poly_impl, n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		const char *path = poly_test_path(i); /* the forked tests inherit it */

		if (!path || i >= PATHS_MAX) {
			printf("path %u cannot be selected\n", i);
			return EXIT_FAILURE;
		}
		failed |= check_run(poly_suite(i, path)) != EXIT_SUCCESS;
	}
	poly_test_extra(extra);
	failed |= check_run(extra) != EXIT_SUCCESS;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

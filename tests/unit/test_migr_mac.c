/*
 * The record MACs and HMAC-SHA256 of migration/mac_mbedtls.c against the
 * specifications' own vectors (RFC 4231 for HMAC-SHA256, RFC 8439 for the
 * ChaCha20 one-time key and Poly1305), against mbed TLS's md.c HMAC, and
 * the property the stream stands on: every bit of key, nonce block and
 * record changes the tag.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/unit_hex.h"
#include "linerate/host_cpu.h"
#include "migration/mac.h"
#include "migration/mac_gmac.h"
#include "mbedtls/md.h"
#include "mbedtls/poly1305.h"
#include "tests/unit/check_run.h"

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[64];

	ck_assert_uint_eq(unit_unhex(want, w), n);
	ck_assert_msg(memcmp(got, w, n) == 0, "value differs from the vector %s", want);
}

static void tag_of(const struct migr_mac_ops *ops, const uint8_t key[MIGR_KEY_SIZE], const uint8_t nb[16],
		   const void *msg, size_t n, uint8_t tag[MIGR_TAG_SIZE])
{
	struct migr_mac_state st;
	struct migr_mac m;

	migr_mac_set(&m, ops, key);
	memset(&st, 0xa5, sizeof(st)); /* no reliance on a clean state */
	ops->init(&st, &m, nb);
	ops->update(&st, msg, n);
	ops->final(&st, tag);
}

static void make_nb(uint8_t nb[16], uint32_t conn, uint32_t dir, uint64_t seq)
{
	memcpy(nb, &conn, 4);
	memcpy(nb + 4, &dir, 4);
	memcpy(nb + 8, &seq, 8);
}

/* RFC 4231 section 4: the HMAC-SHA256 value of every test case (case 5's truncated to 128 bits). */
static const struct {
	size_t key_len;
	uint8_t key_byte; /* cases with a repeated key byte; 0: key is 0x01..0x19 */
	const char *msg;
	size_t msg_len;
	uint8_t msg_byte; /* when msg is NULL: msg_len times this byte */
	const char *mac;
} rfc4231[] = {
	{ 20, 0x0b, "Hi There", 8, 0, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ 4, 0, "what do ya want for nothing?", 28, 0,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ 20, 0xaa, NULL, 50, 0xdd, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ 25, 0, NULL, 50, 0xcd, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ 20, 0x0c, "Test With Truncation", 20, 0, "a3b6167473100ee06e0c796c2955552b" },
	{ 131, 0xaa, "Test Using Larger Than Block-Size Key - Hash Key First", 54, 0,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ 131, 0xaa,
	  "This is a test using a larger than block-size key and a larger than block-size data."
	  " The key needs to be hashed before being used by the HMAC algorithm.",
	  152, 0, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

START_TEST(test_hmac_rfc4231)
{
	uint8_t key[131], msg[152], out[32];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i + 1);
	if (_i == 1)
		memcpy(key, "Jefe", 4);
	else if (rfc4231[_i].key_byte)
		memset(key, rfc4231[_i].key_byte, sizeof(key));
	if (rfc4231[_i].msg)
		memcpy(msg, rfc4231[_i].msg, rfc4231[_i].msg_len);
	else
		memset(msg, rfc4231[_i].msg_byte, rfc4231[_i].msg_len);
	migr_mac_poly1305_ops.hmac256(key, rfc4231[_i].key_len, msg, rfc4231[_i].msg_len, out);
	assert_hex(out, strlen(rfc4231[_i].mac) / 2, rfc4231[_i].mac);
	/* Both algorithms share one HMAC for the handshake. */
	ck_assert_ptr_eq(migr_mac_poly1305_ops.hmac256, migr_mac_hmac_sha256_ops.hmac256);
}
END_TEST

/* Our HMAC over SHA-256 contexts agrees with mbed TLS's own, on keys and messages of every length. */
START_TEST(test_hmac_matches_md)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	uint8_t key[200], msg[300], ours[32], theirs[32];
	size_t kl, ml;

	srand(1);
	for (kl = 0; kl < sizeof(key); kl++)
		key[kl] = (uint8_t)rand();
	for (ml = 0; ml < sizeof(msg); ml++)
		msg[ml] = (uint8_t)rand();
	for (kl = 0; kl <= sizeof(key); kl += 7)
		for (ml = 0; ml <= sizeof(msg); ml += 13) {
			migr_mac_hmac_sha256_ops.hmac256(key, kl, msg, ml, ours);
			ck_assert_int_eq(mbedtls_md_hmac(md, key, kl, msg, ml, theirs), 0);
			ck_assert_int_eq(memcmp(ours, theirs, 32), 0);
		}
}
END_TEST

/*
 * RFC 8439 section 2.6.2 and appendix A.4: the Poly1305 key generated with
 * ChaCha20. Our nonce block with connection 0 is exactly that construction
 * (block counter 0, nonce = direction || sequence), so the record tag must
 * be Poly1305 under the RFC's one-time key of nb || record.
 */
static const struct {
	const char *key, *nonce, *otk;
} rfc8439_keygen[] = {
	{ "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "000000000001020304050607",
	  "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646" },
	{ "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
	  "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7" },
	{ "0000000000000000000000000000000000000000000000000000000000000001", "000000000000000000000002",
	  "ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739" },
	{ "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", "000000000000000000000002",
	  "965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae" },
};

START_TEST(test_poly1305_keygen_rfc8439)
{
	static const char text[] = "Cryptographic Forum Research Group";
	uint8_t key[32], nb[16] = { 0 }, otk[32], in[16 + sizeof(text)], tag[16], want[16];

	unit_unhex(rfc8439_keygen[_i].key, key);
	unit_unhex(rfc8439_keygen[_i].nonce, nb + 4);
	unit_unhex(rfc8439_keygen[_i].otk, otk);
	tag_of(&migr_mac_poly1305_ops, key, nb, text, sizeof(text), tag);
	memcpy(in, nb, 16);
	memcpy(in + 16, text, sizeof(text));
	ck_assert_int_eq(mbedtls_poly1305_mac(otk, in, sizeof(in), want), 0);
	ck_assert_int_eq(memcmp(tag, want, 16), 0);
}
END_TEST

/* RFC 8439 section 2.5.2: the library's Poly1305 itself. */
START_TEST(test_poly1305_rfc8439)
{
	static const char text[] = "Cryptographic Forum Research Group";
	uint8_t otk[32], tag[16];

	unit_unhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", otk);
	ck_assert_int_eq(mbedtls_poly1305_mac(otk, (const uint8_t *)text, strlen(text), tag), 0);
	assert_hex(tag, 16, "a8061dc1305136c6c22b8baf0c0127a9");
}
END_TEST

static const struct migr_mac_ops *const real[] = { &migr_mac_poly1305_ops, &migr_mac_hmac_sha256_ops, &migr_mac_gmac_ops };
#define REAL (sizeof(real) / sizeof(real[0]))

/*
 * One record's tag under each algorithm, computed independently (Python's
 * cryptography and hmac modules) for a nonce block on connection 2, B to A:
 * Poly1305 takes connection 2 as its ChaCha20 block counter, HMAC-SHA256-128
 * is the first half of HMAC-SHA256(K, nb || record), AES-256-GMAC is AES-GCM's
 * tag with IV 02 00 01 00 05 04 03 02 01 00 00 00, no plaintext and
 * nb || record as additional data.
 */
START_TEST(test_record_tag)
{
	static const char *const want[] = { "d06588d2c30742046bca23c369643a0c", "9f09458d1707e30f4877fe4a4b245d2d",
					    "6265213e802dc8daae8dae9718f91dc0" };
	uint8_t key[32], nb[16], msg[24], tag[16], full[32], in[40];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	make_nb(nb, 2, MIGR_DIR_B_TO_A, 0x0102030405ull);
	unit_unhex("050000001000000000" "0102030405060708090a0b0c0d0e0f", msg);
	tag_of(real[_i], key, nb, msg, sizeof(msg), tag);
	assert_hex(tag, 16, want[_i]);
	if (real[_i]->alg == MIGR_MAC_HMAC_SHA256_128) {
		memcpy(in, nb, 16);
		memcpy(in + 16, msg, sizeof(msg));
		real[_i]->hmac256(key, sizeof(key), in, sizeof(in), full);
		ck_assert_int_eq(memcmp(tag, full, 16), 0);
	}
}
END_TEST

/* Flipping any one bit of the key, the nonce block or the record changes the tag. */
START_TEST(test_every_bit_counts)
{
	const struct migr_mac_ops *ops = real[_i];
	uint8_t key[32], nb[16], msg[200], ref[16], tag[16];
	size_t i, bit;

	srand(7);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)rand();
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)rand();
	make_nb(nb, 3, MIGR_DIR_A_TO_B, 41);
	tag_of(ops, key, nb, msg, sizeof(msg), ref);
	for (bit = 0; bit < 8 * sizeof(key); bit++) {
		key[bit / 8] ^= (uint8_t)(1u << bit % 8);
		tag_of(ops, key, nb, msg, sizeof(msg), tag);
		key[bit / 8] ^= (uint8_t)(1u << bit % 8);
		ck_assert_msg(memcmp(tag, ref, 16) != 0, "key bit %zu does not count", bit);
	}
	for (bit = 0; bit < 8 * sizeof(nb); bit++) {
		nb[bit / 8] ^= (uint8_t)(1u << bit % 8);
		tag_of(ops, key, nb, msg, sizeof(msg), tag);
		nb[bit / 8] ^= (uint8_t)(1u << bit % 8);
		ck_assert_msg(memcmp(tag, ref, 16) != 0, "nonce block bit %zu does not count", bit);
	}
	for (bit = 0; bit < 8 * sizeof(msg); bit++) {
		msg[bit / 8] ^= (uint8_t)(1u << bit % 8);
		tag_of(ops, key, nb, msg, sizeof(msg), tag);
		msg[bit / 8] ^= (uint8_t)(1u << bit % 8);
		ck_assert_msg(memcmp(tag, ref, 16) != 0, "record bit %zu does not count", bit);
	}
	/* A longer record with the same prefix is another record. */
	tag_of(ops, key, nb, msg, sizeof(msg) - 1, tag);
	ck_assert(memcmp(tag, ref, 16) != 0);
	/* And the same input gives the same tag (nothing random, nothing left over). */
	tag_of(ops, key, nb, msg, sizeof(msg), tag);
	ck_assert_int_eq(memcmp(tag, ref, 16), 0);
}
END_TEST

/* The codec feeds a record in pieces: the tag cannot depend on where they are cut. */
START_TEST(test_split_updates)
{
	const struct migr_mac_ops *ops = real[_i];
	static uint8_t msg[3 * 4096 + 24];
	uint8_t key[32] = { 9 }, nb[16], ref[16], tag[16];
	struct migr_mac_state st;
	struct migr_mac m;
	size_t i, at, k;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31);
	make_nb(nb, 1, MIGR_DIR_A_TO_B, 7);
	tag_of(ops, key, nb, msg, sizeof(msg), ref);
	migr_mac_set(&m, ops, key);
	srand(3);
	for (i = 0; i < 50; i++) {
		ops->init(&st, &m, nb);
		for (at = 0; at < sizeof(msg); at += k) {
			k = 1 + (size_t)rand() % 300;
			if (k > sizeof(msg) - at)
				k = sizeof(msg) - at;
			ops->update(&st, msg + at, k);
		}
		ops->final(&st, tag);
		ck_assert_int_eq(memcmp(tag, ref, 16), 0);
	}
}
END_TEST

START_TEST(test_find)
{
	ck_assert_ptr_eq(migr_mac_find(MIGR_MAC_POLY1305), &migr_mac_poly1305_ops);
	ck_assert_ptr_eq(migr_mac_find(MIGR_MAC_HMAC_SHA256_128), &migr_mac_hmac_sha256_ops);
	ck_assert_ptr_eq(migr_mac_find(MIGR_MAC_DEFAULT), &migr_mac_poly1305_ops);
	ck_assert_ptr_eq(migr_mac_find(MIGR_MAC_AES_GMAC), &migr_mac_gmac_ops);
	ck_assert_ptr_null(migr_mac_find(MIGR_MAC_TEST));
	ck_assert_ptr_null(migr_mac_find(0));
	ck_assert_uint_eq(migr_mac_poly1305_ops.alg, MIGR_MAC_POLY1305);
	ck_assert_uint_eq(migr_mac_hmac_sha256_ops.alg, MIGR_MAC_HMAC_SHA256_128);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migr_mac");
	TCase *tc = tcase_create("mac");
	struct migr_cpu cpu = lr_host_cpu();

	(void)migr_ghash_use(&cpu, MIGR_GHASH_AVX);
	tcase_add_loop_test(tc, test_hmac_rfc4231, 0, sizeof(rfc4231) / sizeof(rfc4231[0]));
	tcase_add_test(tc, test_hmac_matches_md);
	tcase_add_loop_test(tc, test_poly1305_keygen_rfc8439, 0, sizeof(rfc8439_keygen) / sizeof(rfc8439_keygen[0]));
	tcase_add_test(tc, test_poly1305_rfc8439);
	tcase_add_loop_test(tc, test_record_tag, 0, REAL);
	tcase_add_loop_test(tc, test_every_bit_counts, 0, REAL);
	tcase_add_loop_test(tc, test_split_updates, 0, REAL);
	tcase_add_test(tc, test_find);
	suite_add_tcase(s, tc);
	return check_run(s);
}

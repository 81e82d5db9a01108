/*
 * AES-256-GMAC, record MAC 3 (migration/mac_gmac.h), on each GHASH path this
 * CPU has: known tags computed independently (Python's cryptography, AES-GCM
 * with IV = the nonce block's packed fields, no plaintext, additional data =
 * nonce block || record), a randomized cross-check against libcrypto's
 * AES-GCM, the path choice on made-up CPUs, and the choice of the MAC a
 * sender proposes (migration/mac_pick.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "linerate/ghash_ipsecmb.h"
#include "linerate/host_cpu.h"
#include "migration/mac.h"
#include "migration/mac_gmac.h"
#include "migration/mac_pick.h"
#include "migration/stream.h"
#include "tests/unit/check_run.h"
#include "tests/unit/unit_hex.h"

#define PCLMULQDQ (1u << 1)
#define SSSE3 (1u << 9)
#define OSXSAVE (1u << 27)
#define AVX (1u << 28)
#define SSE2 (1u << 26)
#define XCR0_X87_SSE_AVX 0x7ull
#define AVX2 (1u << 5)
#define AVX512F (1u << 16)
#define AVX512BW (1u << 30)
#define AVX512VL (1u << 31)
#define VPCLMULQDQ (1u << 10)
#define XCR0_AVX512 0xe7ull

static void make_nb(uint8_t nb[16], uint32_t conn, uint32_t dir, uint64_t seq)
{
	memcpy(nb, &conn, 4);
	memcpy(nb + 4, &dir, 4);
	memcpy(nb + 8, &seq, 8);
}

static void tag_of(const uint8_t key[MIGR_KEY_SIZE], const uint8_t nb[16], const uint8_t *msg, size_t n,
		   uint8_t tag[MIGR_TAG_SIZE])
{
	struct migr_mac_state st;
	struct migr_mac m;

	migr_mac_set(&m, &migr_mac_gmac_ops, key);
	memset(&st, 0xa5, sizeof(st)); /* no reliance on a clean state */
	m.ops->init(&st, &m, nb);
	m.ops->update(&st, msg, n);
	m.ops->final(&st, tag);
	migr_mac_clear(&m);
}

/* The paths this CPU has: 1 + the widest (the wide one where ipsec-mb has it here, as in the Linux program). */
static unsigned paths(void)
{
	struct migr_cpu c = lr_host_cpu();

	return (unsigned)migr_ghash_pick(&c, lr_ghash_ipsecmb() ? MIGR_GHASH_WIDE : MIGR_GHASH_AVX) + 1;
}

static void use_path(unsigned p)
{
	struct migr_cpu c = lr_host_cpu();

	ck_assert_uint_eq(migr_ghash_use(&c, (enum migr_ghash_path)p), p);
}

static const struct {
	size_t len;
	const char *tag;
} vectors[] = {
	{ 0, "b30dfdd8f6ed7a914e3374a12f489177" },    { 1, "64fe462ec76399e51d5979f93703ce41" },
	{ 15, "49fe0990bdf2c104e19007b3061ee703" },   { 16, "d88e43dd1df7c92c781c235921bb1cac" },
	{ 17, "c1fd01a360e764645c83bf40d2051a32" },   { 127, "04946357a327e31100a5dcbeeedc99ac" },
	{ 128, "044fbb784d52f517a6cd36d82efe9040" },  { 129, "1d70f3ccb78df79992f6c09c15fe5585" },
	{ 4120, "bb111772634ffd32679a717d1e2c2984" },
};

/* Key byte i = 7i + 1, record byte i = 13i + 5, connection 16, A to B, sequence 2^64 - 2; on every path. */
START_TEST(test_known_tags)
{
	static uint8_t msg[4120];
	uint8_t key[32], nb[16], tag[16], want[16];
	unsigned p, v;
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13 + 5);
	make_nb(nb, 16, MIGR_DIR_A_TO_B, 0xfffffffffffffffeull);
	for (p = MIGR_GHASH_CLMUL; p < paths(); p++) {
		use_path(p);
		for (v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
			tag_of(key, nb, msg, vectors[v].len, tag);
			ck_assert_uint_eq(unit_unhex(vectors[v].tag, want), 16);
			ck_assert_msg(memcmp(tag, want, 16) == 0, "path %s, %zu bytes", migr_ghash_path_name(p),
				      vectors[v].len);
		}
	}
}
END_TEST

static void libcrypto_tag(const uint8_t key[32], const uint8_t nb[16], const uint8_t *msg, size_t n, uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t iv[12];
	int out;

	memcpy(iv, nb, 2);
	memcpy(iv + 2, nb + 4, 2);
	memcpy(iv + 4, nb + 8, 8);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(c, NULL, &out, nb, 16), 1);
	if (n)
		ck_assert_int_eq(EVP_EncryptUpdate(c, NULL, &out, msg, (int)n), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(c, NULL, &out), 1);
	ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(c);
}

/* Random keys, nonces, lengths, alignments and cuts, on every path: the tag is libcrypto's. */
START_TEST(test_matches_libcrypto)
{
	static uint8_t rec[70000];
	uint8_t key[32], nb[16], tag[16], want[16];
	struct migr_mac_state st;
	struct migr_mac m;
	unsigned p, round;
	size_t i, n, align, at, k;

	srand(11);
	for (i = 0; i < sizeof(rec); i++)
		rec[i] = (uint8_t)rand();
	for (p = MIGR_GHASH_CLMUL; p < paths(); p++) {
		use_path(p);
		for (round = 0; round < 60; round++) {
			for (i = 0; i < sizeof(key); i++)
				key[i] = (uint8_t)rand();
			make_nb(nb, (uint32_t)rand() % (MIGR_CONN_MAX + 1), (uint32_t)rand() % 2,
				(uint64_t)rand() << 31 ^ (uint64_t)rand());
			align = (size_t)rand() % 16;
			n = round < 40 ? (size_t)rand() % 3000 : (size_t)rand() % (sizeof(rec) - 16);
			libcrypto_tag(key, nb, rec + align, n, want);
			migr_mac_set(&m, &migr_mac_gmac_ops, key);
			m.ops->init(&st, &m, nb);
			for (at = 0; at < n; at += k) {
				k = round % 2 ? 1 + (size_t)rand() % 700 : n - at;
				if (k > n - at)
					k = n - at;
				m.ops->update(&st, rec + align + at, k);
			}
			m.ops->final(&st, tag);
			ck_assert_msg(memcmp(tag, want, 16) == 0, "path %s, round %u: %zu bytes at offset %zu",
				      migr_ghash_path_name(p), round, n, align);
		}
	}
}
END_TEST

/* A session keyed on one path keeps that path's table: a path chosen again later cannot mix the two. */
START_TEST(test_session_keeps_its_path)
{
	uint8_t key[32] = { 3 }, nb[16], msg[300], ref[16], tag[16];
	struct migr_mac_state st;
	struct migr_mac m;
	unsigned p;

	memset(msg, 0x3c, sizeof(msg));
	make_nb(nb, 1, MIGR_DIR_B_TO_A, 9);
	for (p = MIGR_GHASH_AVX; p < paths(); p++) {
		use_path(p - 1);
		tag_of(key, nb, msg, sizeof(msg), ref);
		migr_mac_set(&m, &migr_mac_gmac_ops, key);
		use_path(p);
		m.ops->init(&st, &m, nb);
		m.ops->update(&st, msg, sizeof(msg));
		m.ops->final(&st, tag);
		ck_assert_msg(memcmp(tag, ref, 16) == 0, "keyed on %s, used on %s", migr_ghash_path_name(p - 1),
			      migr_ghash_path_name(p));
		migr_mac_clear(&m);
	}
}
END_TEST

START_TEST(test_path_choice)
{
	const struct migr_cpu all = { .leaf1_ecx = PCLMULQDQ | SSSE3 | OSXSAVE | AVX, .leaf1_edx = SSE2,
				      .xcr0 = XCR0_X87_SSE_AVX };
	struct migr_cpu c = all;

	ck_assert_uint_eq(migr_ghash_pick(&all, MIGR_GHASH_AVX), MIGR_GHASH_AVX);
	ck_assert_uint_eq(migr_ghash_pick(&all, MIGR_GHASH_CLMUL), MIGR_GHASH_CLMUL);
	ck_assert_uint_eq(migr_ghash_pick(&all, MIGR_GHASH_NONE), MIGR_GHASH_NONE);
	c.xcr0 = 0x3; /* AVX registers not enabled by the OS */
	ck_assert_uint_eq(migr_ghash_pick(&c, MIGR_GHASH_AVX), MIGR_GHASH_CLMUL);
	c = all;
	c.leaf1_ecx &= ~AVX;
	ck_assert_uint_eq(migr_ghash_pick(&c, MIGR_GHASH_AVX), MIGR_GHASH_CLMUL);
	c = all;
	c.leaf1_ecx &= ~PCLMULQDQ;
	ck_assert_uint_eq(migr_ghash_pick(&c, MIGR_GHASH_AVX), MIGR_GHASH_NONE);
	c = all;
	c.leaf1_ecx &= ~SSSE3;
	ck_assert_uint_eq(migr_ghash_pick(&c, MIGR_GHASH_AVX), MIGR_GHASH_NONE);
}
END_TEST

/* The wide path needs VPCLMULQDQ with AVX-512's registers enabled, and a build that set one. */
START_TEST(test_wide_path_choice)
{
	static const struct migr_ghash_wide fake = { "fake", NULL, NULL };
	const struct migr_cpu wide = { .leaf1_ecx = PCLMULQDQ | SSSE3 | OSXSAVE | AVX, .leaf1_edx = SSE2,
				       .leaf7_ebx = AVX2 | AVX512F | AVX512BW | AVX512VL, .leaf7_ecx = VPCLMULQDQ,
				       .xcr0 = XCR0_AVX512 };
	struct migr_cpu c = wide;

	ck_assert_uint_eq(migr_ghash_pick(&wide, MIGR_GHASH_WIDE), MIGR_GHASH_WIDE);
	ck_assert_uint_eq(migr_ghash_pick(&wide, MIGR_GHASH_AVX), MIGR_GHASH_AVX);
	c.leaf7_ecx = 0;
	ck_assert_uint_eq(migr_ghash_pick(&c, MIGR_GHASH_WIDE), MIGR_GHASH_AVX);
	c = wide;
	c.xcr0 = XCR0_X87_SSE_AVX; /* ZMM state not enabled by the OS */
	ck_assert_uint_eq(migr_ghash_pick(&c, MIGR_GHASH_WIDE), MIGR_GHASH_AVX);
	c = wide;
	c.leaf7_ebx &= ~AVX512BW;
	ck_assert_uint_eq(migr_ghash_pick(&c, MIGR_GHASH_WIDE), MIGR_GHASH_AVX);
	migr_ghash_wide_set(NULL); /* the hypervisor's build */
	ck_assert_uint_eq(migr_ghash_use(&wide, MIGR_GHASH_WIDE), MIGR_GHASH_AVX);
	migr_ghash_wide_set(&fake);
	ck_assert_uint_eq(migr_ghash_use(&wide, MIGR_GHASH_WIDE), MIGR_GHASH_WIDE);
	migr_ghash_wide_set(lr_ghash_ipsecmb());
}
END_TEST

/* Without a GHASH path GMAC is not offered, so a destination refuses it cleanly instead of faulting. */
START_TEST(test_not_offered_without_ghash)
{
	const struct migr_cpu none = { 0 };

	ck_assert_uint_eq(migr_ghash_use(&none, MIGR_GHASH_AVX), MIGR_GHASH_NONE);
	ck_assert_ptr_null(migr_mac_find(MIGR_MAC_AES_GMAC));
	use_path(paths() - 1);
	ck_assert_ptr_eq(migr_mac_find(MIGR_MAC_AES_GMAC), &migr_mac_gmac_ops);
	ck_assert_uint_eq(migr_mac_gmac_ops.alg, MIGR_MAC_AES_GMAC);
}
END_TEST

START_TEST(test_pick_from_timings)
{
	struct migr_mac_timing t = { { &migr_mac_poly1305_ops, &migr_mac_gmac_ops }, { 1000, 500 }, 65536 };

	ck_assert_ptr_eq(migr_mac_pick_from(&t), &migr_mac_gmac_ops);
	t.ticks[1] = 901; /* within the margin: Poly1305 stays */
	ck_assert_ptr_eq(migr_mac_pick_from(&t), &migr_mac_poly1305_ops);
	t.ticks[1] = 899;
	ck_assert_ptr_eq(migr_mac_pick_from(&t), &migr_mac_gmac_ops);
	t.ticks[0] = 1100;
	t.ticks[1] = 980;
	ck_assert_ptr_eq(migr_mac_pick_from(&t), &migr_mac_gmac_ops);
	t.ticks[1] = 2000;
	ck_assert_ptr_eq(migr_mac_pick_from(&t), &migr_mac_poly1305_ops);
	t.ops[1] = NULL;
	t.ticks[1] = 1;
	ck_assert_ptr_eq(migr_mac_pick_from(&t), &migr_mac_poly1305_ops);
}
END_TEST

static uint64_t fake_ticks;
static uint64_t fake_now(void)
{
	return fake_ticks += 7;
}

/* migr_mac_pick times every candidate this CPU has and returns a sound one. */
START_TEST(test_pick_times_each)
{
	struct migr_mac_timing t;
	const struct migr_mac_ops *ops;

	use_path(paths() - 1);
	ops = migr_mac_pick(fake_now, &t);
	ck_assert_ptr_eq(t.ops[0], &migr_mac_poly1305_ops);
	ck_assert_ptr_eq(t.ops[1], &migr_mac_gmac_ops);
	ck_assert_uint_eq(t.ticks[0], 7);
	ck_assert_uint_eq(t.ticks[1], 7);
	ck_assert_uint_gt(t.bytes, 0);
	ck_assert_ptr_eq(ops, &migr_mac_poly1305_ops); /* a tie keeps Poly1305 */
	ck_assert_ptr_eq(migr_mac_find(ops->alg), ops);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migr_gmac");
	TCase *tc = tcase_create("gmac");

	tcase_set_timeout(tc, 60);
	migr_ghash_wide_set(lr_ghash_ipsecmb());
	tcase_add_test(tc, test_known_tags);
	tcase_add_test(tc, test_matches_libcrypto);
	tcase_add_test(tc, test_session_keeps_its_path);
	tcase_add_test(tc, test_path_choice);
	tcase_add_test(tc, test_wide_path_choice);
	tcase_add_test(tc, test_not_offered_without_ghash);
	tcase_add_test(tc, test_pick_from_timings);
	tcase_add_test(tc, test_pick_times_each);
	suite_add_tcase(s, tc);
	return check_run(s);
}

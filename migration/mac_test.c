/*
 * Test-only stand-in for the record MAC and HMAC-SHA256, built on XXH3-128
 * with the key mixed in. It has the MAC's interface and catches every
 * tampering the tests make, but it is not cryptographically sound: it must
 * never be offered to a peer outside host tests (see mac.h).
 */
#include <string.h>
#include "migration/mac.h"
#include "migration/xxh.h"

struct test_state {
	XXH3_state_t xxh;
};
_Static_assert(sizeof(struct test_state) <= sizeof(struct migr_mac_state), "test MAC state fits");

static void test_init(struct migr_mac_state *st, const struct migr_mac *m, const uint8_t nb[16])
{
	struct test_state *t = (struct test_state *)st->opaque;
	const uint8_t *key = m->key;
	uint64_t seed;

	memcpy(&seed, key, sizeof(seed));
	/* reset_withSeed keeps a stale secret if the garbage seed happens to match. */
	XXH3_INITSTATE(&t->xxh);
	XXH3_128bits_reset_withSeed(&t->xxh, seed);
	XXH3_128bits_update(&t->xxh, key, MIGR_KEY_SIZE);
	XXH3_128bits_update(&t->xxh, nb, 16);
}

static void test_update(struct migr_mac_state *st, const void *p, size_t n)
{
	XXH3_128bits_update(&((struct test_state *)st->opaque)->xxh, p, n);
}

static void test_final(struct migr_mac_state *st, uint8_t tag[MIGR_TAG_SIZE])
{
	XXH128_hash_t h = XXH3_128bits_digest(&((struct test_state *)st->opaque)->xxh);

	memcpy(tag, &h.low64, 8);
	memcpy(tag + 8, &h.high64, 8);
}

static void test_hmac256(const uint8_t *key, size_t key_len, const void *msg, size_t n, uint8_t out[32])
{
	XXH3_state_t s;
	XXH128_hash_t h;
	int half;

	XXH3_INITSTATE(&s);
	for (half = 0; half < 2; half++) {
		XXH3_128bits_reset_withSeed(&s, (uint64_t)half + 1);
		XXH3_128bits_update(&s, key, key_len);
		XXH3_128bits_update(&s, msg, n);
		h = XXH3_128bits_digest(&s);
		memcpy(out + 16 * half, &h.low64, 8);
		memcpy(out + 16 * half + 8, &h.high64, 8);
	}
}

const struct migr_mac_ops migr_mac_unsound_test_ops = {
	.alg = MIGR_MAC_TEST,
	.name = "test checksum (not a MAC)",
	.init = test_init,
	.update = test_update,
	.final = test_final,
	.hmac256 = test_hmac256,
};

/* The record MACs a peer may be offered (mac.h), and the one a sender proposes (mac_pick.h). */
#include <string.h>
#include "migration/mac_gmac.h"
#include "migration/mac_pick.h"
#include "migration/stream.h"

#define PICK_RECORD (16u * 1024)
#define PICK_RECORDS 4
#define PICK_ROUNDS 3

const struct migr_mac_ops *migr_mac_find(uint32_t alg)
{
	switch (alg) {
	case MIGR_MAC_HMAC_SHA256_128:
		return &migr_mac_hmac_sha256_ops;
	case MIGR_MAC_POLY1305:
		return &migr_mac_poly1305_ops;
	case MIGR_MAC_AES_GMAC:
		return migr_ghash_now() != MIGR_GHASH_NONE ? &migr_mac_gmac_ops : NULL;
	default:
		return NULL; /* the test checksum is never offered to a peer */
	}
}

const struct migr_mac_ops *migr_mac_pick_from(const struct migr_mac_timing *t)
{
	const struct migr_mac_ops *best = t->ops[0];
	uint64_t best_ticks = t->ticks[0];
	unsigned i;

	for (i = 1; i < MIGR_MAC_PICK_CANDIDATES; i++)
		if (t->ops[i] && (!best || t->ticks[i] * 100 < best_ticks * (100 - MIGR_MAC_PICK_MARGIN))) {
			best = t->ops[i];
			best_ticks = t->ticks[i];
		}
	return best;
}

static uint64_t time_tags(const struct migr_mac *m, uint64_t (*now)(void))
{
	static uint8_t rec[PICK_RECORD]; /* what is tagged does not change the time it takes */
	struct migr_mac_state st;
	uint8_t nb[16] = { 0 }, tag[MIGR_TAG_SIZE];
	uint64_t t0 = now();
	unsigned i;

	for (i = 0; i < PICK_RECORDS; i++) {
		nb[8] = (uint8_t)i;
		m->ops->init(&st, m, nb);
		m->ops->update(&st, rec, sizeof(rec));
		m->ops->final(&st, tag);
	}
	return now() - t0;
}

const struct migr_mac_ops *migr_mac_pick(uint64_t (*now)(void), struct migr_mac_timing *t)
{
	static const uint32_t algs[MIGR_MAC_PICK_CANDIDATES] = { MIGR_MAC_POLY1305, MIGR_MAC_AES_GMAC };
	static const uint8_t key[MIGR_KEY_SIZE] = { 1 }; /* a stand-in: nothing tagged here leaves the host */
	struct migr_mac m;
	uint64_t ticks;
	unsigned i, r;

	memset(t, 0, sizeof(*t));
	t->bytes = (uint64_t)PICK_RECORD * PICK_RECORDS;
	for (i = 0; i < MIGR_MAC_PICK_CANDIDATES; i++)
		t->ops[i] = migr_mac_find(algs[i]);
	for (r = 0; r < PICK_ROUNDS; r++)
		for (i = 0; i < MIGR_MAC_PICK_CANDIDATES; i++) {
			if (!t->ops[i])
				continue;
			migr_mac_set(&m, t->ops[i], key);
			ticks = time_tags(&m, now);
			if (!r || ticks < t->ticks[i])
				t->ticks[i] = ticks;
		}
	migr_mac_clear(&m);
	return migr_mac_pick_from(t);
}

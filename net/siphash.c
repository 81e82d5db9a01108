#include "net/siphash.h"

/* Little-endian loads whatever the host's order or alignment. */
static uint64_t sip_load64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t sip_rotl(uint64_t x, unsigned b) { return x << b | x >> (64 - b); }

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = sip_rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = sip_rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = sip_rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = sip_rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = sip_rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = sip_rotl(s->v2, 32);
}

/* Two compression rounds per message word. */
static void sip_absorb(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *msg, size_t len)
{
	const uint8_t *in = msg;
	uint64_t k0 = sip_load64(key), k1 = sip_load64(key + 8), last = (uint64_t)len << 56;
	struct sip_state s = {
		/* "somepseudorandomlygeneratedbytes", the paper's initialisation constants */
		.v0 = k0 ^ 0x736f6d6570736575ull,
		.v1 = k1 ^ 0x646f72616e646f6dull,
		.v2 = k0 ^ 0x6c7967656e657261ull,
		.v3 = k1 ^ 0x7465646279746573ull,
	};
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8)
		sip_absorb(&s, sip_load64(in + i));
	/* The last word: the remaining bytes, and the length's low byte on top. */
	while (tail--)
		last |= (uint64_t)in[i + tail] << (8 * tail);
	sip_absorb(&s, last);
	/* Four finalisation rounds. */
	s.v2 ^= 0xff;
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

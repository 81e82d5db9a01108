/* Handshake derivations and tag comparison, common to every MAC implementation. */
#include <string.h>
#include "migration/mac.h"

void migr_mac_derive(const struct migr_mac_ops *ops, const uint8_t *secret, size_t secret_len,
		     const char *label, const uint8_t nonce_a[MIGR_NONCE_SIZE],
		     const uint8_t nonce_b[MIGR_NONCE_SIZE], uint8_t out[32])
{
	uint8_t msg[16 + 2 * MIGR_NONCE_SIZE];
	size_t l = strlen(label);

	if (l > 16)
		l = 16;
	memcpy(msg, label, l);
	memcpy(msg + l, nonce_a, MIGR_NONCE_SIZE);
	memcpy(msg + l + MIGR_NONCE_SIZE, nonce_b, MIGR_NONCE_SIZE);
	ops->hmac256(secret, secret_len, msg, l + 2 * MIGR_NONCE_SIZE, out);
}

int migr_mac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

void migr_mac_set(struct migr_mac *m, const struct migr_mac_ops *ops, const uint8_t key[MIGR_KEY_SIZE])
{
	m->ops = ops;
	memcpy(m->key, key, MIGR_KEY_SIZE);
	memset(&m->session, 0, sizeof(m->session));
	if (ops->keyed)
		ops->keyed(m);
}

void migr_mac_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = 0;
}

void migr_mac_clear(struct migr_mac *m)
{
	migr_mac_wipe(m->key, sizeof(m->key));
	migr_mac_wipe(&m->session, sizeof(m->session));
}

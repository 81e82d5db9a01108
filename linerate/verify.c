/* The post-migration check: see verify.h. */
#define _GNU_SOURCE
#include "linerate/verify.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#define XXH_INLINE_ALL
#include <xxhash.h>
#include "migration/mac.h"

#define MAGIC "FRYVRFY1"

uint64_t lr_digest(const void *p, uint64_t len)
{
	return XXH3_64bits(p, (size_t)len);
}

static void tag(const struct lr_verify_msg *m, const uint8_t *secret, size_t len, uint8_t out[32])
{
	migr_mac_hmac_sha256_ops.hmac256(secret, len, m, offsetof(struct lr_verify_msg, mac), out);
}

void lr_verify_seal(struct lr_verify_msg *m, const uint8_t *secret, size_t len)
{
	memcpy(m->magic, MAGIC, sizeof(m->magic));
	tag(m, secret, len, m->mac);
}

int lr_verify_open(const struct lr_verify_msg *m, const uint8_t *secret, size_t len, const uint8_t uuid[16])
{
	uint8_t t[32];

	tag(m, secret, len, t);
	if (memcmp(m->magic, MAGIC, sizeof(m->magic)) || !migr_mac_equal(t, m->mac, sizeof(t)) ||
	    memcmp(m->uuid, uuid, sizeof(m->uuid)))
		return -1;
	return 0;
}

/* Moves all n bytes one way on a non-blocking socket, waiting at most timeout_ms for each piece. */
static int move(int fd, void *buf, size_t n, int out, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = out ? POLLOUT : POLLIN };
	uint8_t *b = buf;
	ssize_t k;

	while (n) {
		k = out ? send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT) : recv(fd, b, n, MSG_DONTWAIT);
		if (k > 0) {
			b += k;
			n -= (size_t)k;
			continue;
		}
		if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || poll(&p, 1, timeout_ms) != 1)
			return -1;
	}
	return 0;
}

int lr_verify_send(int fd, const struct lr_verify_msg *m, int timeout_ms)
{
	return move(fd, (void *)m, sizeof(*m), 1, timeout_ms);
}

int lr_verify_recv(int fd, struct lr_verify_msg *m, int timeout_ms)
{
	return move(fd, m, sizeof(*m), 0, timeout_ms);
}

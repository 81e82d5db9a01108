/*
 * The check after a migration, outside the stream and outside the
 * measured time: each side hashes its whole buffer, and the sender opens
 * one more connection to the receiver's listener to swap digests, the
 * writers' self-check and the receiver's figures. Each message carries an
 * HMAC-SHA256 under the shared secret, so a stray peer cannot fake a match.
 */
#ifndef LR_VERIFY_H
#define LR_VERIFY_H

#include <stddef.h>
#include <stdint.h>

struct lr_verify_msg {
	char magic[8];
	uint8_t uuid[16];       /* the migration's VM identity */
	uint64_t digest;        /* XXH3-64 over the whole buffer */
	uint64_t selfcheck_bad; /* sender: pages off the writers' record, and the writers' own finds */
	uint64_t cpu_us;        /* receiver: CPU time of its process during the migration */
	uint64_t downtime_ms;   /* receiver: its view of the pause */
	uint64_t pages_written;
	uint8_t mac[32];
};

/* XXH3-64 of len bytes (vectorised: the stream's own hashing stays scalar, this is only a check). */
uint64_t lr_digest(const void *p, uint64_t len);
/* Fills in magic and MAC; returns 0 if msg carries a good MAC for this secret and uuid. */
void lr_verify_seal(struct lr_verify_msg *m, const uint8_t *secret, size_t len);
int lr_verify_open(const struct lr_verify_msg *m, const uint8_t *secret, size_t len, const uint8_t uuid[16]);
/* Sends all of m / reads all of it on fd within timeout_ms; 0 or -1. */
int lr_verify_send(int fd, const struct lr_verify_msg *m, int timeout_ms);
int lr_verify_recv(int fd, struct lr_verify_msg *m, int timeout_ms);

#endif

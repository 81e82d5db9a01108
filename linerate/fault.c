/* Test-only faults of the sender: see fault.h. */
#define _GNU_SOURCE
#include "linerate/fault.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "linerate/opts.h"
#include "linerate/vm.h"
#include "migration/codec.h"
#include "migration/xxh.h"

#define IO_TIMEOUT_MS 10000

int lr_fault_ready(const struct migr_sender *s)
{
	return s->status == MIGR_SEND_RUNNING && s->phase == MIGR_SP_PRECOPY && s->prog.pages_sent == 0 &&
	       s->prog.zero_pages == 0;
}

/* All of buf on fd (a non-blocking socket), waiting for room as needed. */
static int put(int fd, const uint8_t *buf, size_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	ssize_t k;

	while (n) {
		k = send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			buf += k;
			n -= (size_t)k;
		} else if (poll(&p, 1, IO_TIMEOUT_MS) != 1) {
			return -1;
		}
	}
	return 0;
}

/* What the link has queued (the preamble, CONN_BIND, PASS_BEGIN) goes out first, in order. */
static int flush(struct migr_sender *s, struct lr_tcp *t, uint32_t c)
{
	struct migr_link *l = &s->link[c];
	int rc, i;

	for (i = 0; i < IO_TIMEOUT_MS; i++) {
		rc = migr_link_flush(l, &s->p.transport);
		if (rc)
			return rc < 0 ? -1 : 0;
		(void)lr_tcp_poll(t, 1);
	}
	return -1;
}

int lr_fault_inject(struct migr_sender *s, struct lr_tcp *t, uint32_t fault, uint64_t npages)
{
	static uint8_t rec[MIGR_REC_SIZE(MIGR_PAGE_DATA_LEN(1))];
	struct migr_page_data h = { .gfn = 0, .count = 1, .pass = s->prog.pass };
	uint8_t *b, *data;
	uint64_t hash;
	size_t n;

	if (flush(s, t, 0) || flush(s, t, 1))
		return -1;
	if (fault == LR_FAULT_OUTSIDE)
		h.gfn = npages; /* the first page past the VM's memory */
	b = migr_enc_open(rec, sizeof(rec), MIGR_REC_PAGE_DATA, (uint32_t)MIGR_PAGE_DATA_LEN(1));
	data = b + sizeof(h) + 8;
	memset(data, 0xa5, MIGR_PAGE_SIZE);
	hash = migr_page_hash(data);
	if (fault == LR_FAULT_MALFORMED)
		h.count = 2; /* the body holds one page and says two */
	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), &hash, 8);
	n = migr_enc_close(&s->link[1].tx, rec); /* the session's key and the link's next sequence number */
	if (fault == LR_FAULT_FORGED) {
		/* Changed after the tag, its hash made to agree again: only the MAC can tell. */
		data[100] ^= 0x01;
		hash = migr_page_hash(data);
		memcpy(b + sizeof(h), &hash, 8);
	}
	return put(lr_tcp_fd(t, 1), rec, n);
}

/* Reads one record from fd into dec within the timeout: 1, or <=0 on failure. */
static int next_record(int fd, struct migr_dec *dec, struct migr_rec *rec)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t *dst;
	size_t want;
	ssize_t k;
	int rc;

	for (;;) {
		dst = migr_dec_space(dec, &want);
		if (!want)
			return -1;
		k = recv(fd, dst, want, MSG_DONTWAIT);
		if (k == 0)
			return 0;
		if (k < 0) {
			if (poll(&p, 1, IO_TIMEOUT_MS) != 1)
				return -1;
			continue;
		}
		rc = migr_dec_commit(dec, (size_t)k, rec);
		if (rc)
			return rc;
	}
}

uint32_t lr_fault_no_secret(struct lr_tcp *t, uint32_t mac_alg, int timeout_ms)
{
	static uint8_t in[MIGR_REC_SIZE(MIGR_DEC_MIN_BODY)];
	const struct migr_mac_ops *ops = migr_mac_find(mac_alg);
	struct migr_hello hello = { .version = MIGR_VERSION, .mac_alg = mac_alg };
	uint8_t buf[512], wrong[LR_SECRET_MAX], nonce_a[MIGR_NONCE_SIZE];
	struct migr_auth auth;
	struct migr_dec dec;
	struct migr_rec rec;
	struct migr_tx tx;
	uint32_t code = 0;
	size_t k;
	int fd = lr_tcp_connect_blocking(t, timeout_ms);

	if (fd < 0 || !ops)
		goto out;
	lr_random(NULL, nonce_a, sizeof(nonce_a));
	lr_random(NULL, wrong, sizeof(wrong)); /* a secret nobody holds */
	memcpy(hello.nonce, nonce_a, sizeof(nonce_a));
	migr_tx_init(&tx, 0, MIGR_DIR_A_TO_B);
	migr_dec_init(&dec, in, sizeof(in), MIGR_CONN_CONTROL, 0, MIGR_DIR_B_TO_A);
	k = migr_enc_preamble(buf, sizeof(buf));
	k += (size_t)migr_enc(&tx, MIGR_REC_HELLO, &hello, sizeof(hello), buf + k, sizeof(buf) - k);
	if (put(fd, buf, k) || next_record(fd, &dec, &rec) != 1 || rec.type != MIGR_REC_HELLO)
		goto out;
	memcpy(&hello, rec.body, sizeof(hello));
	/* B's proof is not checked: this source does not know what it should be. */
	migr_mac_derive(ops, wrong, sizeof(wrong), "ferry A", nonce_a, hello.nonce, auth.proof);
	k = (size_t)migr_enc(&tx, MIGR_REC_AUTH, &auth, sizeof(auth), buf, sizeof(buf));
	if (put(fd, buf, k))
		goto out;
	if (next_record(fd, &dec, &rec) == 1 && rec.type == MIGR_REC_ERROR)
		memcpy(&code, rec.body, sizeof(code));
out:
	if (fd >= 0)
		close(fd);
	return code;
}

/*
 * What the stream's per-page work costs on the host CPU: MiB/s over 4 KiB
 * pages for the record MACs (through migr_mac_ops, records of 32 pages as
 * PAGE_DATA carries them, Poly1305 including its per-record ChaCha20 key),
 * the per-page XXH3-64 and a plain memcpy as the floor. One timed run each.
 *
 *   migr-crypto-bench OUT.json
 *
 * Built by mk/openssl-poly.mk against the host build of mbed TLS and the
 * hypervisor's Poly1305 (same sources and configuration), on the widest
 * path this CPU and OS allow, as the hypervisor chooses at boot; run by
 * tests/bench/bench_migr_crypto.py.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "migration/mac.h"
#include "migration/mac_poly.h"
#include "migration/mac_poly_asm.h"
#include "migration/xxh.h"
#include "linerate/host_cpu.h"

#define BUF_BYTES (32u << 20)         /* larger than the last-level cache: pages come from memory, as in a migration */
#define REC_PAGES 32u                 /* a full PAGE_DATA record: 128 KiB of pages */
#define REC_HEAD (8u + 16u + 8u * REC_PAGES) /* record header, PAGE_DATA header, hashes */
#define MIN_SECONDS 0.5

static uint8_t *src, *dst;
static volatile uint64_t sink; /* keeps results alive */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass over the buffer: returns bytes of page data processed. */
typedef uint64_t (*pass_fn)(const struct migr_mac_ops *ops);

static uint64_t pass_mac(const struct migr_mac_ops *ops)
{
	static const uint8_t key[MIGR_KEY_SIZE] = { 0x42 };
	static uint64_t seq;
	static struct migr_mac m;
	uint8_t head[REC_HEAD] = { 5 }, nb[16] = { 1 }, tag[MIGR_TAG_SIZE];
	struct migr_mac_state st;
	size_t off;

	migr_mac_set(&m, ops, key);

	for (off = 0; off < BUF_BYTES; off += REC_PAGES * MIGR_PAGE_SIZE) {
		memcpy(nb + 8, &seq, 8);
		seq++;
		ops->init(&st, &m, nb);
		ops->update(&st, head, sizeof(head));
		ops->update(&st, src + off, REC_PAGES * MIGR_PAGE_SIZE);
		ops->final(&st, tag);
		sink ^= tag[0];
	}
	return BUF_BYTES;
}

static uint64_t pass_xxh3(const struct migr_mac_ops *ops)
{
	size_t off;

	(void)ops;
	for (off = 0; off < BUF_BYTES; off += MIGR_PAGE_SIZE)
		sink ^= migr_page_hash(src + off);
	return BUF_BYTES;
}

static uint64_t pass_memcpy(const struct migr_mac_ops *ops)
{
	size_t off;

	(void)ops;
	for (off = 0; off < BUF_BYTES; off += MIGR_PAGE_SIZE)
		memcpy(dst + off, src + off, MIGR_PAGE_SIZE);
	sink ^= dst[BUF_BYTES - 1];
	return BUF_BYTES;
}

static double mib_per_s(pass_fn f, const struct migr_mac_ops *ops)
{
	double t0, t;
	uint64_t bytes = 0;

	f(ops); /* warm: pages mapped, code in cache */
	t0 = now();
	do {
		bytes += f(ops);
		t = now() - t0;
	} while (t < MIN_SECONDS);
	return (double)bytes / (1 << 20) / t;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name, *what;
		pass_fn f;
		uint32_t alg;
	} runs[] = {
		{ "poly1305", "Poly1305 record MAC, ChaCha20 one-time key per 128 KiB record", pass_mac, MIGR_MAC_POLY1305 },
		{ "hmac_sha256_128", "HMAC-SHA256-128 record MAC per 128 KiB record", pass_mac, MIGR_MAC_HMAC_SHA256_128 },
		{ "xxh3_64", "XXH3-64 per 4 KiB page, on the path the hypervisor would take", pass_xxh3, 0 },
		{ "memcpy", "memcpy per 4 KiB page", pass_memcpy, 0 },
	};
	const struct migr_cpu host = lr_host_cpu();
	enum migr_poly_path path = migr_poly_use(&host, MIGR_POLY_IFMA);
	enum migr_xxh_path xpath = migr_xxh_use(&host, MIGR_XXH_AVX512);
	double r[sizeof(runs) / sizeof(runs[0])];
	size_t i, n = sizeof(runs) / sizeof(runs[0]);
	uint64_t x = 88172645463325252ull;
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT.json\n", argv[0]);
		return 2;
	}
	src = malloc(BUF_BYTES);
	dst = malloc(BUF_BYTES);
	if (!src || !dst)
		return 1;
	for (i = 0; i < BUF_BYTES / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(src + 8 * i, &x, 8);
	}
	memset(dst, 0, BUF_BYTES);
	printf("Poly1305: %s, %s path; XXH3: %s path\n", migr_poly_impl, migr_poly_path_name(path),
	       migr_xxh_path_name(xpath));
	for (i = 0; i < n; i++)
		r[i] = mib_per_s(runs[i].f, runs[i].alg ? migr_mac_find(runs[i].alg) : NULL);
	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	fprintf(out, "{\n  \"page_bytes\": %u,\n  \"record_pages\": %u,\n  \"buffer_bytes\": %u,\n  \"results\": [\n",
		MIGR_PAGE_SIZE, REC_PAGES, BUF_BYTES);
	printf("%-16s %10s %10s %10s  %s\n", "what", "MiB/s", "/memcpy", "ns/page", "");
	for (i = 0; i < n; i++) {
		double ns_page = 1e9 / (r[i] * (1 << 20) / MIGR_PAGE_SIZE);

		printf("%-16s %10.0f %10.3f %10.1f  %s\n", runs[i].name, r[i], r[i] / r[n - 1], ns_page, runs[i].what);
		fprintf(out,
			"    {\"name\": \"%s\", \"what\": \"%s\", \"mib_s\": %.1f, \"ratio_to_memcpy\": %.4f, "
			"\"ratio_to_xxh3\": %.4f, \"ns_per_page\": %.1f}%s\n",
			runs[i].name, runs[i].what, r[i], r[i] / r[n - 1], r[i] / r[n - 2], ns_page, i + 1 < n ? "," : "");
	}
	fprintf(out, "  ]\n}\n");
	fclose(out);
	free(src);
	free(dst);
	return sink == 0x5a5a5a5a5a5a5a5aull; /* never: only so the compiler keeps the work */
}

/*
 * Poly1305 from each library the builds could use, on the same data:
 * instructions per byte (what a byte costs in the emulator, where every
 * instruction takes about the same time) and CPU nanoseconds per byte on
 * this host, for records of 64 KiB to 1 MiB over a 64 MiB buffer.
 *
 *   poly1305-bench [-q] [-l LIBRARY] OUT.json
 *
 * Instructions are counted by single-stepping the measured code under
 * ptrace in a child process (this machine's VM exposes no hardware counter
 * to perf), over one record of 64 KiB per library, minus an empty region's
 * count. Time is the thread's CPU time (the machine is shared: wall time
 * would count other processes), the best of 3 passes over the buffer.
 * OpenSSL chooses its code path from the CPU; OPENSSL_ia32cap masks features
 * (tests/bench/bench_poly1305.py runs this once per path). The hypervisor's
 * glue is measured on each path this CPU has, forced with migr_poly_use()
 * (hv is its scalar path). -q skips timing;
 * -l measures only the library of that name.
 */
#define _GNU_SOURCE
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "mbedtls/poly1305.h"
#include "migration/mac_poly.h"
#include "migration/mac_poly_asm.h"
#include "linerate/host_cpu.h"

#define BUF_BYTES (64u << 20)
#define COUNT_RECORD (64u << 10)
#define COUNT_RECORDS 1u
#define PASSES 3

static uint8_t *buf;
static volatile uint8_t sink;
static EVP_MAC *openssl_mac;

typedef void (*poly_fn)(const uint8_t key[32], const uint8_t *p, size_t n, uint8_t tag[16]);

static void poly_mbedtls(const uint8_t key[32], const uint8_t *p, size_t n, uint8_t tag[16])
{
	mbedtls_poly1305_context c;

	mbedtls_poly1305_init(&c);
	(void)mbedtls_poly1305_starts(&c, key);
	(void)mbedtls_poly1305_update(&c, p, n);
	(void)mbedtls_poly1305_finish(&c, tag);
	mbedtls_poly1305_free(&c);
}

/* The hypervisor's: OpenSSL's assembly under migration/mac_poly_openssl_asm.c, on the path main() set. */
static void poly_hv(const uint8_t key[32], const uint8_t *p, size_t n, uint8_t tag[16])
{
	struct migr_mac_state s;

	migr_poly_start(&s, key);
	migr_poly_update(&s, p, n);
	migr_poly_finish(&s, tag);
}

static void poly_sodium_system(const uint8_t key[32], const uint8_t *p, size_t n, uint8_t tag[16])
{
	crypto_onetimeauth_poly1305_state s;

	crypto_onetimeauth_poly1305_init(&s, key);
	crypto_onetimeauth_poly1305_update(&s, p, n);
	crypto_onetimeauth_poly1305_final(&s, tag);
}

static void openssl_fail(void)
{
	fprintf(stderr, "poly1305-bench: OpenSSL's Poly1305 failed\n");
	exit(1);
}

/* libcrypto's EVP_MAC: a context per tag, as a record MAC on it would need. */
static void poly_openssl(const uint8_t key[32], const uint8_t *p, size_t n, uint8_t tag[16])
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(openssl_mac);
	size_t len;

	if (!c || !EVP_MAC_init(c, key, 32, NULL) || !EVP_MAC_update(c, p, n) || !EVP_MAC_final(c, tag, &len, 16))
		openssl_fail();
	EVP_MAC_CTX_free(c);
}

#define NOT_HV MIGR_POLY_PATHS

static const struct {
	const char *name, *what;
	poly_fn f;
	enum migr_poly_path hv_path; /* the path the hypervisor's glue is forced to, NOT_HV for the others */
} libs[] = {
	{ "mbedtls", "mbed TLS 2.28.3 poly1305.c (32-bit limbs), today's record MAC", poly_mbedtls, NOT_HV },
	{ "hv", "the hypervisor's: OpenSSL 3.0 x86-64 assembly, scalar path", poly_hv, MIGR_POLY_SCALAR },
	{ "hv_avx", "the hypervisor's: OpenSSL 3.0 x86-64 assembly, AVX path", poly_hv, MIGR_POLY_AVX },
	{ "hv_avx2", "the hypervisor's: OpenSSL 3.0 x86-64 assembly, AVX2 path", poly_hv, MIGR_POLY_AVX2 },
	{ "hv_avx512", "the hypervisor's: OpenSSL 3.0 x86-64 assembly, AVX-512F path", poly_hv, MIGR_POLY_AVX512 },
	{ "hv_ifma", "the hypervisor's: OpenSSL 3.0 x86-64 assembly, AVX-512 IFMA path", poly_hv, MIGR_POLY_IFMA },
	{ "sodium_system", "system libsodium 1.0.18, run-time dispatched (SSE2 where present)", poly_sodium_system,
	  NOT_HV },
	{ "openssl", "OpenSSL 3 libcrypto EVP_MAC, its own choice of path, a context per record", poly_openssl, NOT_HV },
};
#define NLIBS (sizeof(libs) / sizeof(libs[0]))

/* One pass over the first bytes of the buffer in records of rec bytes, each under its own key. */
static void run(poly_fn f, size_t bytes, size_t rec)
{
	uint8_t key[32] = { 1 }, tag[16];
	size_t off;

	for (off = 0; off + rec <= bytes; off += rec) {
		memcpy(key, buf + off, 16);
		f(key, buf + off, rec, tag);
		sink ^= tag[0];
	}
}

/* Instructions of run(f, COUNT_RECORDS x COUNT_RECORD) in a single-stepped child; f NULL: the empty region. */
static long long count_instructions(poly_fn f)
{
	long long steps = 0;
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		if (f)
			run(f, COUNT_RECORDS * COUNT_RECORD, COUNT_RECORD);
		raise(SIGSTOP);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFSTOPPED(status)) {
			steps = -1;
			break;
		}
		if (WSTOPSIG(status) != SIGTRAP)
			break; /* the second SIGSTOP: the region is over */
		steps++;
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return steps;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double ns_per_byte(poly_fn f, size_t rec)
{
	double best = 0;
	int i;

	run(f, rec, rec); /* code and key schedule warm */
	for (i = 0; i < PASSES; i++) {
		double t0 = cpu_now(), t;

		run(f, BUF_BYTES, rec);
		t = (cpu_now() - t0) * 1e9 / BUF_BYTES;
		if (i == 0 || t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	static const size_t recs[] = { 64u << 10, 128u << 10, 1u << 20 };
	const char *cap = getenv("OPENSSL_ia32cap"), *only = NULL;
	const struct migr_cpu host = lr_host_cpu();
	uint64_t x = 88172645463325252ull;
	int quick = 0, opt, first = 1;
	long long empty;
	size_t i, r;
	FILE *out;

	while ((opt = getopt(argc, argv, "ql:")) != -1) {
		if (opt == 'q')
			quick = 1;
		else if (opt == 'l')
			only = optarg;
		else
			break;
	}
	if (opt != -1 || optind != argc - 1) {
		fprintf(stderr, "usage: %s [-q] [-l LIBRARY] OUT.json\n", argv[0]);
		return 2;
	}
	openssl_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_POLY1305, NULL);
	buf = malloc(BUF_BYTES);
	if (sodium_init() < 0 || !openssl_mac || !buf)
		return 1;
	for (i = 0; i < BUF_BYTES / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + 8 * i, &x, 8);
	}
	out = fopen(argv[optind], "w");
	if (!out) {
		perror(argv[optind]);
		return 1;
	}
	empty = count_instructions(NULL);
	fprintf(out, "{\n  \"openssl_ia32cap\": \"%s\",\n  \"buffer_bytes\": %u,\n  \"count_bytes\": %u,\n  \"results\": [\n",
		cap ? cap : "", BUF_BYTES, COUNT_RECORDS * COUNT_RECORD);
	printf("%-14s %8s %9s %9s %9s  (OPENSSL_ia32cap=%s)\n", "library", "insn/B", "ns/B 64K", "ns/B 128K",
	       "ns/B 1M", cap ? cap : "");
	for (i = 0; i < NLIBS; i++) {
		double ipb, ns[sizeof(recs) / sizeof(recs[0])] = { 0 };
		long long n;

		if (only && strcmp(only, libs[i].name) != 0)
			continue;
		/* The glue's path for the tags from here on; one this CPU lacks is left out. */
		if (libs[i].hv_path != NOT_HV && migr_poly_use(&host, libs[i].hv_path) != libs[i].hv_path)
			continue;
		n = count_instructions(libs[i].f);
		ipb = n < 0 || empty < 0 ? -1 : (double)(n - empty) / (COUNT_RECORDS * COUNT_RECORD);
		printf("%-14s %8.3f", libs[i].name, ipb);
		for (r = 0; r < sizeof(recs) / sizeof(recs[0]); r++) {
			if (!quick)
				ns[r] = ns_per_byte(libs[i].f, recs[r]);
			printf(" %9.4f", ns[r]);
		}
		printf("\n");
		fprintf(out,
			"%s    {\"name\": \"%s\", \"what\": \"%s\", \"insn_per_byte\": %.4f, \"ns_per_byte_64k\": %.4f, "
			"\"ns_per_byte_128k\": %.4f, \"ns_per_byte_1m\": %.4f}",
			first ? "" : ",\n", libs[i].name, libs[i].what, ipb, ns[0], ns[1], ns[2]);
		first = 0;
	}
	fprintf(out, "\n  ]\n}\n");
	fclose(out);
	EVP_MAC_free(openssl_mac);
	free(buf);
	return 0;
}

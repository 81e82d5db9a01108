/*
 * ferry-migrate: the migration stream of migration/ (the same sender,
 * receiver and policy the hypervisor runs) as a Linux program over TCP,
 * to measure it at line rate. linerate/README.md describes its use.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include "linerate/clock.h"
#include "linerate/ghash_ipsecmb.h"
#include "linerate/host_cpu.h"
#include "linerate/opts.h"
#include "linerate/run.h"
#include "migration/mac_gmac.h"
#include "migration/mac_poly_asm.h"
#include "migration/xxh_path.h"

static double seconds(const struct rusage *u)
{
	return (double)u->ru_utime.tv_sec + (double)u->ru_utime.tv_usec / 1e6 + (double)u->ru_stime.tv_sec +
	       (double)u->ru_stime.tv_usec / 1e6;
}

double lr_cpu_thread(void)
{
	struct rusage u;

	return getrusage(RUSAGE_THREAD, &u) ? 0 : seconds(&u);
}

double lr_cpu_process(void)
{
	struct rusage u;

	return getrusage(RUSAGE_SELF, &u) ? 0 : seconds(&u);
}

uint64_t lr_now_us(void)
{
	return lr_now_ns() / 1000;
}

void lr_say(const char *fmt, ...)
{
	va_list ap;

	fputs("ferry-migrate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *env(const char *name)
{
	return getenv(name);
}

int main(int argc, char **argv)
{
	struct lr_opts o;
	struct migr_cpu cpu = lr_host_cpu();
	char err[256];

	if (lr_opts_parse(argc, argv, &o, err, sizeof(err), env)) {
		lr_say("%s", err);
		return LR_EXIT_USAGE;
	}
	/* The same hashes and tags on every path; the JSON says which ran. */
	(void)migr_xxh_use(&cpu, MIGR_XXH_AVX512);
	(void)migr_poly_use(&cpu, MIGR_POLY_IFMA);
	migr_ghash_wide_set(lr_ghash_ipsecmb());
	(void)migr_ghash_use(&cpu, MIGR_GHASH_WIDE);
	return o.role == LR_ROLE_SEND ? lr_send(&o) : lr_recv(&o);
}

/*
 * ferry-migrate's command line: the form the benchmark harness drives, the
 * defaults, and one refusal per kind of mistake, each with exit code 2 and
 * a message naming the option (never the secret).
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "linerate/opts.h"
#include "migration/stream.h"
#include "tests/unit/check_run.h"

static const char *env_secret;
static char secret_path[64];

static const char *fake_env(const char *name)
{
	return strcmp(name, LR_SECRET_ENV) ? NULL : env_secret;
}

static int parse(struct lr_opts *o, char *err, const char *line)
{
	char buf[512], *argv[40];
	int argc = 0;
	char *tok;

	snprintf(buf, sizeof(buf), "ferry-migrate %s", line);
	for (tok = strtok(buf, " "); tok && argc < 40; tok = strtok(NULL, " "))
		argv[argc++] = strcmp(tok, "SECRET") ? tok : secret_path;
	err[0] = 0;
	return lr_opts_parse(argc, argv, o, err, 256, fake_env);
}

static void setup(void)
{
	FILE *f;

	snprintf(secret_path, sizeof(secret_path), "/tmp/lr-opts-secret-%d", (int)getpid());
	f = fopen(secret_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("a-secret-of-enough-length-42\n", f);
	fclose(f);
	env_secret = NULL;
}

static void teardown(void)
{
	remove(secret_path);
}

START_TEST(test_harness_forms)
{
	struct lr_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, "recv --listen 127.0.0.1:9000 --connections 4 --secret-file SECRET --mem 64M "
				       "--json /tmp/x.json"), 0);
	ck_assert_uint_eq(o.role, LR_ROLE_RECV);
	ck_assert_str_eq(o.host, "127.0.0.1");
	ck_assert_uint_eq(o.port, 9000);
	ck_assert_uint_eq(o.connections, 4);
	ck_assert_uint_eq(o.mem, 64u << 20);
	ck_assert_str_eq(o.json, "/tmp/x.json");
	ck_assert_uint_eq(o.secret_len, strlen("a-secret-of-enough-length-42"));
	ck_assert_int_eq(memcmp(o.secret, "a-secret-of-enough-length-42", o.secret_len), 0);

	ck_assert_int_eq(parse(&o, err, "send --to 10.0.0.2:9000 --connections 16 --secret-file SECRET --mem 8G "
				       "--pattern hot --rate flat --writers 4 --zero --downtime-ms 300 --json out"), 0);
	ck_assert_uint_eq(o.role, LR_ROLE_SEND);
	ck_assert_uint_eq(o.mem, 8ull << 30);
	ck_assert_uint_eq(o.pattern, LR_PAT_HOT);
	ck_assert_uint_eq(o.rate_mib_s, 0);
	ck_assert_uint_eq(o.writers, 4);
	ck_assert_int_eq(o.zero, 1);
	ck_assert_uint_eq(o.downtime_ms, 300);
	ck_assert_uint_eq(o.pause_retries, 2); /* the hypervisor API's default */
	ck_assert_int_eq(parse(&o, err, "send --to 127.0.0.1:1 --secret-file SECRET --mem 1M --pause-retries 0"), 0);
	ck_assert_uint_eq(o.pause_retries, 0);
	ck_assert_int_eq(parse(&o, err, "send --to 127.0.0.1:1 --secret-file SECRET --mem 1M --pause-retries=8"), 0);
	ck_assert_uint_eq(o.pause_retries, 8);

	ck_assert_int_eq(parse(&o, err, "send --to=127.0.0.1:1 --secret-file SECRET --mem=4096 --rate=25 "
				       "--pattern=seq --fault=outside-memory --tsc-khz=50000"), 0);
	ck_assert_uint_eq(o.rate_mib_s, 25);
	ck_assert_uint_eq(o.writers, 1); /* a pattern implies one writer */
	ck_assert_uint_eq(o.fault, LR_FAULT_OUTSIDE);
	ck_assert_uint_eq(o.tsc_hz, 50000000);
	ck_assert_uint_eq(o.mac_alg, 0); /* auto */

	ck_assert_int_eq(parse(&o, err, "send --to 127.0.0.1:1 --secret-file SECRET --mem 1M --mac gmac"), 0);
	ck_assert_uint_eq(o.mac_alg, MIGR_MAC_AES_GMAC);
	ck_assert_int_eq(parse(&o, err, "send --to 127.0.0.1:1 --secret-file SECRET --mac=poly1305 --mem 1M"), 0);
	ck_assert_uint_eq(o.mac_alg, MIGR_MAC_POLY1305);
	ck_assert_int_eq(parse(&o, err, "send --to 127.0.0.1:1 --secret-file SECRET --mem 1M --mac hmac-sha256"), 0);
	ck_assert_uint_eq(o.mac_alg, MIGR_MAC_HMAC_SHA256_128);

	ck_assert_int_eq(parse(&o, err, "recv --listen 127.0.0.1:1 --secret-file SECRET --mem 1M --congestion bbr"), 0);
	ck_assert_str_eq(o.congestion, "bbr");
	ck_assert_int_eq(o.congestion_given, 1);
}
END_TEST

START_TEST(test_defaults_and_env_secret)
{
	struct lr_opts o;
	char err[256];

	env_secret = "from-the-environment-0123";
	ck_assert_int_eq(parse(&o, err, "send --to localhost:7000 --mem 1M"), 0);
	ck_assert_uint_eq(o.connections, 1);
	ck_assert_uint_eq(o.downtime_ms, 300);
	ck_assert_uint_eq(o.pattern, LR_PAT_NONE);
	ck_assert_uint_eq(o.writers, 0);
	ck_assert_uint_eq(o.fault, LR_FAULT_NONE);
	ck_assert_uint_eq(o.secret_len, strlen(env_secret));
	ck_assert_str_eq(o.congestion, LR_CONGESTION_DEFAULT);
	ck_assert_int_eq(o.congestion_given, 0); /* not offered: the system's, not an error */
}
END_TEST

static const struct {
	const char *line, *needle;
} bad[] = {
	{ "", "usage" },
	{ "migrate --to 1.2.3.4:5", "usage" },
	{ "send --mem 1M --secret-file SECRET", "--to HOST:PORT is required" },
	{ "recv --mem 1M --secret-file SECRET", "--listen HOST:PORT is required" },
	{ "send --to 1.2.3.4:5 --secret-file SECRET", "--mem SIZE is required" },
	{ "send --to 1.2.3.4:5 --mem 1M", "no secret" },
	{ "send --to 1.2.3.4 --mem 1M --secret-file SECRET", "--to" },
	{ "send --to 1.2.3.4:70000 --mem 1M --secret-file SECRET", "--to" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --connections 0", "--connections" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --connections 17", "--connections" },
	{ "send --to 1.2.3.4:5 --mem 9G --secret-file SECRET", "--mem" },
	{ "send --to 1.2.3.4:5 --mem 4097 --secret-file SECRET", "--mem" },
	{ "send --to 1.2.3.4:5 --mem 1X --secret-file SECRET", "--mem" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --pattern zigzag", "--pattern" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --rate -5", "--rate" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --writers 2", "--writers needs a --pattern" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --fault nothing", "--fault" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --bogus 1", "--bogus: unknown option" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --mem 2M", "--mem given twice" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --zero=1", "--zero takes no value" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --downtime-ms", "--downtime-ms needs a value" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --pause-retries 9", "--pause-retries 9: expected 0..8" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --pause-retries -1", "--pause-retries -1" },
	{ "recv --listen 1.2.3.4:5 --mem 1M --secret-file SECRET --pause-retries 1", "not an option of recv" },
	{ "recv --listen 1.2.3.4:5 --mem 1M --secret-file SECRET --pattern seq", "not an option of recv" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file /nonexistent/secret", "/nonexistent/secret" },
	{ "send --to 1.2.3.4:5 --mem 4K --secret-file SECRET --pattern seq --writers 2", "too small" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET stray", "stray" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --mac chacha", "--mac chacha: expected" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --mac", "--mac needs a value" },
	{ "recv --listen 1.2.3.4:5 --mem 1M --secret-file SECRET --mac gmac", "not an option of recv" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --congestion=", "--congestion" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --congestion Cubic", "--congestion" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --congestion a-very-long-name", "--congestion" },
	{ "send --to 1.2.3.4:5 --mem 1M --secret-file SECRET --congestion ../bbr", "--congestion" },
};

START_TEST(test_refusals)
{
	struct lr_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, bad[_i].line), LR_EXIT_USAGE);
	ck_assert_msg(strstr(err, bad[_i].needle), "'%s' said '%s'", bad[_i].line, err);
}
END_TEST

/* A secret too short or with spaces is refused, and never echoed. */
START_TEST(test_bad_secrets)
{
	struct lr_opts o;
	char err[256];

	env_secret = "short";
	ck_assert_int_eq(parse(&o, err, "send --to 1.2.3.4:5 --mem 1M"), LR_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(err, "16 to 64"));
	ck_assert_ptr_null(strstr(err, "short"));
	env_secret = "with spaces in it but long enough";
	ck_assert_int_eq(parse(&o, err, "send --to 1.2.3.4:5 --mem 1M"), LR_EXIT_USAGE);
	ck_assert_ptr_null(strstr(err, "spaces in it"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lr_opts");
	TCase *tc = tcase_create("opts");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_harness_forms);
	tcase_add_test(tc, test_defaults_and_env_secret);
	tcase_add_loop_test(tc, test_refusals, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_bad_secrets);
	suite_add_tcase(s, tc);
	return check_run(s);
}

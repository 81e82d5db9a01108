/* The run's JSON record: see report.h. */
#include "linerate/report.h"
#include "linerate/run.h"
#include "migration/mac_gmac.h"
#include "migration/mac_poly_asm.h"
#include "migration/xxh_path.h"

/* Any words, our own or a peer's (an ERROR's text): escaped, control bytes as \u00XX. */
static void str(FILE *f, const char *k, const char *v, int *first)
{
	fprintf(f, "%s\"%s\": ", *first ? "" : ", ", k);
	*first = 0;
	if (!v) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void u64(FILE *f, const char *k, uint64_t v, int *first)
{
	fprintf(f, "%s\"%s\": %llu", *first ? "" : ", ", k, (unsigned long long)v);
	*first = 0;
}

static void dbl(FILE *f, const char *k, double v, int *first)
{
	fprintf(f, "%s\"%s\": %.3f", *first ? "" : ", ", k, v);
	*first = 0;
}

static void boolean(FILE *f, const char *k, int v, int *first)
{
	fprintf(f, "%s\"%s\": %s", *first ? "" : ", ", k, v ? "true" : "false");
	*first = 0;
}

/* The code path of the record MAC's per-byte work, set at start-up. */
static const char *mac_path(const struct migr_mac_ops *mac)
{
	if (!mac)
		return NULL;
	switch (mac->alg) {
	case MIGR_MAC_POLY1305:
		return migr_poly_path_name(migr_poly_now());
	case MIGR_MAC_AES_GMAC:
		return migr_ghash_path_name(migr_ghash_now());
	default:
		return "mbed TLS";
	}
}

void lr_report_write(FILE *f, const struct lr_report *r)
{
	int first = 1;
	char hex[2][17];

	snprintf(hex[0], sizeof(hex[0]), "%016llx", (unsigned long long)r->digest_send);
	snprintf(hex[1], sizeof(hex[1]), "%016llx", (unsigned long long)r->digest_recv);
	fputc('{', f);
	str(f, "role", r->role, &first);
	str(f, "status", r->status, &first);
	str(f, "error", r->error, &first);
	str(f, "peer_error", r->peer_error, &first);
	str(f, "error_detail", r->error_detail, &first);
	str(f, "link_error", r->link_error, &first);
	str(f, "tracker", r->tracker, &first);
	str(f, "congestion", r->congestion, &first);
	str(f, "fault", r->fault, &first);
	str(f, "page_hash", migr_xxh_path_name(migr_xxh_now()), &first); /* XXH3's code path, set at start-up */
	str(f, "mac", r->mac ? r->mac->name : NULL, &first);
	str(f, "mac_path", mac_path(r->mac), &first);
	u64(f, "connections", r->connections, &first);
	u64(f, "mem_bytes", r->mem, &first);
	str(f, "memory", r->zero ? "zero" : "nonzero", &first);
	str(f, "pattern", r->pattern, &first);
	u64(f, "writers", r->writers, &first);
	u64(f, "rate_mib_s", r->rate_mib_s, &first);
	u64(f, "bandwidth_cap_mib_s", r->bandwidth_cap_mib_s, &first);
	u64(f, "bytes", r->bytes, &first);
	u64(f, "pages_sent", r->pages_sent, &first);
	u64(f, "zero_pages", r->zero_pages, &first);
	u64(f, "pages_written", r->pages_written, &first);
	dbl(f, "ours_mib_s", r->goodput_mib_s, &first);
	dbl(f, "total_ms", r->total_ms, &first);
	if (r->mono_end_us) {
		u64(f, "mono_begin_us", r->mono_begin_us, &first);
		u64(f, "mono_end_us", r->mono_end_us, &first);
	}
	u64(f, "passes", r->passes, &first);
	dbl(f, "downtime_ms", r->downtime_ms, &first);
	dbl(f, "downtime_recv_ms", r->downtime_recv_ms, &first);
	u64(f, "downtime_limit_ms", r->downtime_limit_ms, &first);
	u64(f, "pause_retries", r->pause_retries, &first);
	u64(f, "pauses_called_off", r->pauses_called_off, &first);
	dbl(f, "called_off_ms", r->called_off_ms, &first);
	if (r->pause_ms[LR_PAUSE_MARKS - 1] > 0) {
		static const char *const names[LR_PAUSE_MARKS] = { "pause_to_final_ms", "pause_to_state_ms",
								   "pause_to_state_sent_ms", "pause_to_commit_ms",
								   "pause_to_end_ms" };

		u64(f, "expected_downtime_ms", r->expected_downtime_ms, &first);
		u64(f, "switch_remaining_bytes", r->switch_remaining_bytes, &first);
		u64(f, "switch_queued_bytes", r->switch_queued_bytes, &first);
		dbl(f, "switch_bandwidth_mib_s", (double)r->switch_bandwidth / (double)(1 << 20), &first);
		u64(f, "switch_rtt_us", r->switch_rtt_us, &first);
		for (unsigned i = 0; i < LR_PAUSE_MARKS; i++)
			dbl(f, names[i], r->pause_ms[i], &first);
	}
	boolean(f, "converged", r->converged, &first);
	u64(f, "peak_throttle", r->peak_throttle, &first);
	u64(f, "writes", r->writes, &first);
	dbl(f, "cpu_s_send", r->cpu_s_send, &first);
	dbl(f, "cpu_s_send_process", r->cpu_s_send_process, &first);
	dbl(f, "cpu_s_recv", r->cpu_s_recv, &first);
	dbl(f, "cpu_s_per_gib_send", r->cpu_s_per_gib_send, &first);
	dbl(f, "cpu_s_per_gib_recv", r->cpu_s_per_gib_recv, &first);
	str(f, "digest_send", hex[0], &first);
	str(f, "digest_recv", r->verified ? hex[1] : NULL, &first);
	u64(f, "selfcheck_errors", r->selfcheck_errors, &first);
	boolean(f, "digest_match", r->digest_match, &first);
	fputs("}\n", f);
}

int lr_report_emit(const struct lr_report *r, const char *path)
{
	FILE *f;
	int rc = 0;

	lr_report_write(stdout, r);
	fflush(stdout);
	if (!path)
		return 0;
	f = fopen(path, "w");
	if (!f)
		return -1;
	lr_report_write(f, r);
	if (fclose(f))
		rc = -1;
	return rc;
}

void lr_report_say_failed(const struct lr_report *r, const char *peer)
{
	char line[512];
	size_t n = (size_t)snprintf(line, sizeof(line), "MIGRATION FAILED: %s", r->error ? r->error : "unknown");

	if (r->error_detail && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " (%s)", r->error_detail);
	if (r->link_error && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n, "; %s", r->link_error);
	if (r->peer_error && n < sizeof(line))
		(void)snprintf(line + n, sizeof(line) - n, ", %s%s", peer, r->peer_error);
	lr_say("%s", line);
}

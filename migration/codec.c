/* Record encoder and incremental decoder: see codec.h and docs/migration-stream.md. */
#include <string.h>
#include "kernel/lib/err.h"
#include "migration/codec.h"
#include "migration/prof.h"

/* A record in place: its header, head and hashes in buf, its pages where placed, then its tag in buf. */
enum { STAGE_PREAMBLE, STAGE_HDR, STAGE_BODY, STAGE_HEAD, STAGE_PAGES, STAGE_TAG };

#define ON_CONTROL (1u << MIGR_CONN_CONTROL)
#define ON_DATA (1u << MIGR_CONN_DATA)
#define ON_ANY (ON_CONTROL | ON_DATA)
#define A2B (1u << MIGR_DIR_A_TO_B)
#define B2A (1u << MIGR_DIR_B_TO_A)

/* Length rule: min + k * unit up to max (unit 0: exactly min); where and who may send it. */
struct rec_rule {
	uint32_t min, max, unit;
	uint8_t conns, dirs;
	uint8_t unkeyed; /* may come before the key, with a zero tag */
};

static const struct rec_rule rules[MIGR_REC_COUNT] = {
	[MIGR_REC_HELLO] = { sizeof(struct migr_hello), sizeof(struct migr_hello), 0, ON_CONTROL, A2B | B2A, 1 },
	[MIGR_REC_AUTH] = { sizeof(struct migr_auth), sizeof(struct migr_auth), 0, ON_CONTROL, A2B, 1 },
	[MIGR_REC_HEADER] = { sizeof(struct migr_header), sizeof(struct migr_header), 0, ON_CONTROL, A2B, 0 },
	[MIGR_REC_CONN_BIND] = { sizeof(struct migr_conn_bind), sizeof(struct migr_conn_bind), 0, ON_DATA, A2B, 0 },
	[MIGR_REC_PAGE_DATA] = { MIGR_PAGE_DATA_LEN(1), MIGR_BODY_MAX, 8 + MIGR_PAGE_SIZE, ON_DATA, A2B, 0 },
	[MIGR_REC_ZERO_PAGES] = { MIGR_ZERO_PAGES_LEN(1), MIGR_ZERO_PAGES_LEN(MIGR_ZERO_MAX), 8, ON_DATA, A2B, 0 },
	[MIGR_REC_PASS_BEGIN] = { sizeof(struct migr_pass_begin), sizeof(struct migr_pass_begin), 0, ON_CONTROL, A2B, 0 },
	[MIGR_REC_PASS_END] = { sizeof(struct migr_pass_end), sizeof(struct migr_pass_end), 0, ON_DATA, A2B, 0 },
	[MIGR_REC_VCPU_STATE] = { sizeof(struct migr_vcpu_state), MIGR_VCPU_STATE_MAX, 8, ON_CONTROL, A2B, 0 },
	[MIGR_REC_DEVICE_STATE] = { sizeof(struct migr_device_state), MIGR_DEVICE_STATE_MAX, 1, ON_CONTROL, A2B, 0 },
	[MIGR_REC_TIME] = { sizeof(struct migr_time), sizeof(struct migr_time), 0, ON_CONTROL, A2B, 0 },
	[MIGR_REC_DIGEST] = { sizeof(struct migr_digest), sizeof(struct migr_digest), 0, ON_CONTROL, A2B, 0 },
	[MIGR_REC_READY] = { 0, 0, 0, ON_CONTROL, B2A, 0 },
	[MIGR_REC_COMMIT] = { 0, 0, 0, ON_CONTROL, A2B, 0 },
	[MIGR_REC_CONFIRM] = { 0, 0, 0, ON_CONTROL, B2A, 0 },
	[MIGR_REC_ERROR] = { sizeof(struct migr_error), sizeof(struct migr_error) + MIGR_ERROR_TEXT_MAX, 1,
			     ON_ANY, A2B | B2A, 1 },
	[MIGR_REC_ACK] = { sizeof(struct migr_ack), sizeof(struct migr_ack), 0, ON_CONTROL, B2A, 0 },
	[MIGR_REC_END] = { 0, 0, 0, ON_ANY, A2B | B2A, 0 },
	[MIGR_REC_PROGRESS] = { sizeof(struct migr_progress), sizeof(struct migr_progress), 0, ON_CONTROL, B2A, 0 },
	[MIGR_REC_RESUMED] = { 0, 0, 0, ON_CONTROL, A2B, 0 },
};

/* Sub-record lengths of VCPU_STATE, same rule shape as records. */
static const struct rec_rule sub_rules[MIGR_SUB_COUNT] = {
	[MIGR_SUB_GPRS] = { sizeof(struct migr_gprs), sizeof(struct migr_gprs), 0, 0, 0, 0 },
	[MIGR_SUB_SEGMENTS] = { sizeof(struct migr_segments), sizeof(struct migr_segments), 0, 0, 0, 0 },
	[MIGR_SUB_CONTROL] = { sizeof(struct migr_control), sizeof(struct migr_control), 0, 0, 0, 0 },
	[MIGR_SUB_FPU] = { sizeof(struct migr_fpu), sizeof(struct migr_fpu), 0, 0, 0, 0 },
	[MIGR_SUB_DEBUG] = { sizeof(struct migr_debug), sizeof(struct migr_debug), 0, 0, 0, 0 },
	[MIGR_SUB_MSRS] = { sizeof(struct migr_msrs), sizeof(struct migr_msrs) + MIGR_MSRS_MAX * sizeof(struct migr_msr),
			    sizeof(struct migr_msr), 0, 0, 0 },
	[MIGR_SUB_EVENTS] = { sizeof(struct migr_events), sizeof(struct migr_events), 0, 0, 0, 0 },
};

static const char *const error_text[] = {
	[0] = "none",
	[MIGR_ERR_PROTOCOL] = "protocol",
	[MIGR_ERR_AUTH] = "authentication",
	[MIGR_ERR_VERSION] = "version",
	[MIGR_ERR_RESOURCES] = "resources",
	[MIGR_ERR_RANGE] = "range",
	[MIGR_ERR_INTEGRITY] = "integrity",
	[MIGR_ERR_CANCELLED] = "cancelled",
	[MIGR_ERR_TIMEOUT] = "timeout",
	[MIGR_ERR_INTERNAL] = "internal",
};

const char *migr_error_str(uint32_t code)
{
	return code < sizeof(error_text) / sizeof(error_text[0]) ? error_text[code] : "unknown";
}

static const char *const type_text[MIGR_REC_COUNT] = {
	[MIGR_REC_HELLO] = "HELLO", [MIGR_REC_AUTH] = "AUTH", [MIGR_REC_HEADER] = "HEADER",
	[MIGR_REC_CONN_BIND] = "CONN_BIND", [MIGR_REC_PAGE_DATA] = "PAGE_DATA", [MIGR_REC_ZERO_PAGES] = "ZERO_PAGES",
	[MIGR_REC_PASS_BEGIN] = "PASS_BEGIN", [MIGR_REC_PASS_END] = "PASS_END", [MIGR_REC_VCPU_STATE] = "VCPU_STATE",
	[MIGR_REC_DEVICE_STATE] = "DEVICE_STATE", [MIGR_REC_TIME] = "TIME", [MIGR_REC_DIGEST] = "DIGEST",
	[MIGR_REC_READY] = "READY", [MIGR_REC_COMMIT] = "COMMIT", [MIGR_REC_CONFIRM] = "CONFIRM",
	[MIGR_REC_ERROR] = "ERROR", [MIGR_REC_ACK] = "ACK", [MIGR_REC_END] = "END", [MIGR_REC_PROGRESS] = "PROGRESS",
	[MIGR_REC_RESUMED] = "RESUMED",
};

const char *migr_rec_type_str(uint32_t type)
{
	uint32_t t = type & MIGR_TYPE_MASK;

	return t && t < MIGR_REC_COUNT ? type_text[t] : "unknown";
}

static int length_ok(const struct rec_rule *r, uint32_t len)
{
	if (len < r->min || len > r->max)
		return 0;
	return r->unit ? (len - r->min) % r->unit == 0 : len == r->min;
}

uint64_t migr_get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n--)
		acc |= *p++;
	return acc == 0;
}

/* A device's state: known device, instance 0, its own length, reserved bytes zero. The values are the VM's to check. */
static int device_check(const uint8_t *b, uint32_t len)
{
	static const struct { uint32_t len; uint32_t reserved_at[4]; uint8_t reserved_len[4]; } dev[MIGR_DEV_COUNT] = {
		[MIGR_DEV_UART16550] = { sizeof(struct migr_uart16550), { offsetof(struct migr_uart16550, reserved) }, { 7 } },
		[MIGR_DEV_PIC8259_PAIR] = { sizeof(struct migr_pic_pair),
					    { offsetof(struct migr_pic_pair, chip[0].reserved),
					      offsetof(struct migr_pic_pair, chip[1].reserved) }, { 1, 1 } },
		[MIGR_DEV_PIT8254] = { sizeof(struct migr_pit),
				       { offsetof(struct migr_pit, ch[0].reserved), offsetof(struct migr_pit, ch[1].reserved),
					 offsetof(struct migr_pit, ch[2].reserved), offsetof(struct migr_pit, reserved) },
				       { 6, 6, 6, 6 } },
		[MIGR_DEV_RTC_CMOS] = { sizeof(struct migr_rtc), { offsetof(struct migr_rtc, reserved) }, { 7 } },
		[MIGR_DEV_UART16550A] = { sizeof(struct migr_uart16550a), { offsetof(struct migr_uart16550a, reserved) },
					  { 7 } },
	};
	uint32_t id = get_u32(b);
	unsigned i;

	if (id == 0 || id >= MIGR_DEV_COUNT || get_u32(b + 4) != 0 || len != 8 + dev[id].len)
		return HV_EINVAL;
	for (i = 0; i < 4; i++)
		if (!all_zero(b + 8 + dev[id].reserved_at[i], dev[id].reserved_len[i]))
			return HV_EINVAL;
	return 0;
}

/* A record's tag starts from its nonce block: connection index, direction, sequence. */
static void tag_begin(struct migr_mac_state *st, const struct migr_mac *mac, uint32_t conn, uint32_t dir, uint64_t seq)
{
	uint8_t nb[16];

	memcpy(nb, &conn, 4);
	memcpy(nb + 4, &dir, 4);
	memcpy(nb + 8, &seq, 8);
	mac->ops->init(st, mac, nb);
}

static void tag_update(struct migr_dec *d, const uint8_t *p, size_t n)
{
	uint64_t t0 = migr_prof_begin();

	d->mac->ops->update(&d->st, p, n);
	migr_prof_end(MIGR_PROF_MAC, t0, n);
}

/* The record's tag over nonce block, header, body and padding. */
static void compute_tag(const struct migr_mac *mac, uint32_t conn, uint32_t dir, uint64_t seq,
			const uint8_t *rec, size_t covered, uint8_t tag[MIGR_TAG_SIZE])
{
	struct migr_mac_state st;
	uint64_t t0 = migr_prof_begin();

	tag_begin(&st, mac, conn, dir, seq);
	mac->ops->update(&st, rec, covered);
	mac->ops->final(&st, tag);
	migr_prof_end(MIGR_PROF_MAC, t0, covered);
}

void migr_tx_init(struct migr_tx *tx, uint32_t conn, uint32_t dir)
{
	tx->mac = NULL;
	tx->conn = conn;
	tx->dir = dir;
	tx->seq = 0;
}

void migr_tx_key(struct migr_tx *tx, const struct migr_mac *mac)
{
	tx->mac = mac;
	tx->seq = 0;
}

size_t migr_enc_preamble(uint8_t *out, size_t cap)
{
	struct migr_preamble p = { .version = MIGR_VERSION };

	if (cap < sizeof(p))
		return 0;
	memcpy(p.magic, MIGR_MAGIC, sizeof(p.magic));
	memcpy(out, &p, sizeof(p));
	return sizeof(p);
}

uint8_t *migr_enc_open(uint8_t *out, size_t cap, uint32_t type, uint32_t len)
{
	struct migr_rec_hdr h = { .type = type, .length = len };

	if (len > MIGR_BODY_MAX || MIGR_REC_SIZE(len) > cap)
		return NULL;
	memcpy(out, &h, sizeof(h));
	return out + sizeof(h);
}

size_t migr_enc_close(struct migr_tx *tx, uint8_t *rec)
{
	uint32_t len = get_u32(rec + 4);
	size_t covered = sizeof(struct migr_rec_hdr) + MIGR_PAD8(len);

	memset(rec + sizeof(struct migr_rec_hdr) + len, 0, MIGR_PAD8(len) - len);
	if (tx->mac)
		compute_tag(tx->mac, tx->conn, tx->dir, tx->seq++, rec, covered, rec + covered);
	else
		memset(rec + covered, 0, MIGR_TAG_SIZE);
	return covered + MIGR_TAG_SIZE;
}

long migr_enc(struct migr_tx *tx, uint32_t type, const void *body, uint32_t len, uint8_t *out, size_t cap)
{
	uint8_t *b = migr_enc_open(out, cap, type, len);

	if (!b)
		return HV_ERANGE;
	if (len)
		memcpy(b, body, len);
	return (long)migr_enc_close(tx, out);
}

void migr_dec_init(struct migr_dec *d, uint8_t *buf, size_t cap, uint32_t kind, uint32_t conn, uint32_t dir)
{
	memset(d, 0, sizeof(*d));
	d->buf = buf;
	d->cap = cap;
	d->kind = kind;
	d->conn = conn;
	d->dir = dir;
	d->stage = STAGE_PREAMBLE;
	d->need = sizeof(struct migr_preamble);
	d->base = buf;
	if (cap < MIGR_REC_SIZE(MIGR_DEC_MIN_BODY)) {
		d->err = HV_EINVAL;
		d->why = MIGR_ERR_INTERNAL;
	}
}

void migr_dec_key(struct migr_dec *d, const struct migr_mac *mac)
{
	d->mac = mac;
	d->seq = 0;
}

static int fail(struct migr_dec *d, int err, uint32_t why)
{
	d->err = err;
	d->why = why;
	return err;
}

void migr_dec_place(struct migr_dec *d, migr_place_fn place, void *ctx)
{
	d->place = place;
	d->place_ctx = ctx;
}

uint8_t *migr_dec_space(struct migr_dec *d, size_t *n)
{
	*n = d->err ? 0 : d->need - d->have;
	return d->base + d->have;
}

static int take_preamble(struct migr_dec *d)
{
	struct migr_preamble p;

	memcpy(&p, d->buf, sizeof(p));
	if (memcmp(p.magic, MIGR_MAGIC, sizeof(p.magic)) != 0 || p.reserved != 0)
		return fail(d, HV_EINVAL, MIGR_ERR_PROTOCOL);
	if (p.version < MIGR_VERSION_MIN || p.version > MIGR_VERSION)
		return fail(d, HV_ENOTSUP, MIGR_ERR_VERSION);
	d->version = p.version;
	return 0;
}

/* Header checks: type, length rule, connection and direction, before the body is read. */
static int take_header(struct migr_dec *d)
{
	uint32_t t;
	const struct rec_rule *r;

	d->type = get_u32(d->buf);
	d->length = get_u32(d->buf + 4);
	t = d->type & MIGR_TYPE_MASK;
	if (d->length > MIGR_BODY_MAX || MIGR_REC_SIZE(d->length) > d->cap)
		return fail(d, HV_ERANGE, MIGR_ERR_PROTOCOL);
	if (t == 0 || t >= MIGR_REC_COUNT) {
		if (!(d->type & MIGR_OPTIONAL) || !d->mac)
			return fail(d, HV_EINVAL, MIGR_ERR_PROTOCOL);
		return 0;
	}
	r = &rules[t];
	if (!length_ok(r, d->length))
		return fail(d, HV_ERANGE, MIGR_ERR_PROTOCOL);
	if (!(r->conns & (1u << d->kind)) || !(r->dirs & (1u << d->dir)))
		return fail(d, HV_EINVAL, MIGR_ERR_PROTOCOL);
	if (!d->mac && !r->unkeyed)
		return fail(d, HV_EINVAL, MIGR_ERR_AUTH);
	return 0;
}

/* Padding, tag, then the body's own rules. Returns 1 for a record, 0 for a skipped one. */
static int take_body(struct migr_dec *d, struct migr_rec *rec)
{
	uint32_t t = d->type & MIGR_TYPE_MASK;
	size_t covered = sizeof(struct migr_rec_hdr) + MIGR_PAD8(d->length);
	const uint8_t *body = d->buf + sizeof(struct migr_rec_hdr);
	uint8_t tag[MIGR_TAG_SIZE];
	uint32_t conn = d->conn;
	int known = t != 0 && t < MIGR_REC_COUNT;
	int rc;

	if (!all_zero(body + d->length, MIGR_PAD8(d->length) - d->length))
		return fail(d, HV_EINVAL, MIGR_ERR_PROTOCOL);
	if (d->mac) {
		/* CONN_BIND is tagged with the index it names (docs: "The record MAC"). */
		if (t == MIGR_REC_CONN_BIND && conn == MIGR_CONN_UNBOUND)
			conn = get_u32(body + offsetof(struct migr_conn_bind, index));
		compute_tag(d->mac, conn, d->dir, d->seq, d->buf, covered, tag);
		if (!migr_mac_equal(tag, d->buf + covered, MIGR_TAG_SIZE))
			return fail(d, HV_EINVAL, MIGR_ERR_INTEGRITY);
		d->seq++;
	} else if (!all_zero(d->buf + covered, MIGR_TAG_SIZE)) {
		return fail(d, HV_EINVAL, MIGR_ERR_AUTH);
	}
	if (!known) {
		d->skipped++;
		return 0;
	}
	rc = migr_body_check(t, body, d->length);
	if (rc)
		return fail(d, rc, MIGR_ERR_PROTOCOL);
	if (t == MIGR_REC_CONN_BIND && d->conn == MIGR_CONN_UNBOUND)
		d->conn = conn;
	rec->type = t;
	rec->length = d->length;
	rec->body = body;
	rec->pages = NULL;
	d->records++;
	return 1;
}

/* Pages of a keyed PAGE_DATA record in place, if its length is exact and a placer is set: its head first. */
static void head_next(struct migr_dec *d)
{
	size_t unit = 8 + MIGR_PAGE_SIZE, k;

	if (!d->place || !d->mac || d->type != MIGR_REC_PAGE_DATA || d->length < MIGR_PAGE_DATA_LEN(1))
		return;
	k = (d->length - sizeof(struct migr_page_data)) / unit;
	if (d->length != MIGR_PAGE_DATA_LEN(k))
		return;
	d->stage = STAGE_HEAD;
	d->need = d->head = sizeof(struct migr_rec_hdr) + sizeof(struct migr_page_data) + k * 8;
}

/*
 * The head is in: if it names what its length says and the placer gives it a place, its pages go
 * there; if not, the record goes on into buf as any other (and meets the usual checks).
 */
static void take_head(struct migr_dec *d)
{
	const uint8_t *b = d->buf + sizeof(struct migr_rec_hdr);
	uint32_t count = get_u32(b + 8);

	d->stage = STAGE_BODY;
	d->need = MIGR_REC_SIZE(d->length);
	if (count == 0 || MIGR_PAGE_DATA_LEN(count) != d->length || get_u32(b + 12) == 0)
		return;
	d->pages = d->place(d->place_ctx, migr_get_u64(b), count);
	if (!d->pages)
		return;
	tag_begin(&d->st, d->mac, d->conn, d->dir, d->seq);
	tag_update(d, d->buf, d->head);
	d->stage = STAGE_PAGES;
	d->base = d->pages;
	d->have = 0;
	d->need = (size_t)count * MIGR_PAGE_SIZE;
}

/* The tag over a record in place, then the record as take_body returns it. */
static int take_tag(struct migr_dec *d, struct migr_rec *rec)
{
	uint8_t tag[MIGR_TAG_SIZE];
	uint64_t t0 = migr_prof_begin();

	d->mac->ops->final(&d->st, tag);
	migr_prof_end(MIGR_PROF_MAC, t0, 0);
	if (!migr_mac_equal(tag, d->base, MIGR_TAG_SIZE))
		return fail(d, HV_EINVAL, MIGR_ERR_INTEGRITY);
	d->seq++;
	rec->type = MIGR_REC_PAGE_DATA;
	rec->length = d->length;
	rec->body = d->buf + sizeof(struct migr_rec_hdr);
	rec->pages = d->pages;
	d->records++;
	return 1;
}

/* Bytes of a record in place: pages into the tag as they come (still in cache), then its tag. */
static int commit_in_place(struct migr_dec *d, size_t n, struct migr_rec *rec)
{
	int rc = 0;

	if (d->stage == STAGE_PAGES)
		tag_update(d, d->base + d->have - n, n);
	if (d->have < d->need)
		return 0;
	if (d->stage == STAGE_PAGES) {
		d->stage = STAGE_TAG;
		d->base = d->buf + d->head;
		d->have = 0;
		d->need = MIGR_TAG_SIZE;
		return 0;
	}
	rc = take_tag(d, rec);
	d->stage = STAGE_HDR;
	d->base = d->buf;
	d->have = 0;
	d->need = sizeof(struct migr_rec_hdr);
	return rc;
}

int migr_dec_commit(struct migr_dec *d, size_t n, struct migr_rec *rec)
{
	int rc = 0;

	if (d->err)
		return d->err;
	if (n > d->need - d->have)
		return fail(d, HV_EINVAL, MIGR_ERR_INTERNAL);
	d->have += n;
	if (d->stage == STAGE_PAGES || d->stage == STAGE_TAG)
		return commit_in_place(d, n, rec);
	if (d->have < d->need)
		return 0;
	switch (d->stage) {
	case STAGE_PREAMBLE:
		rc = take_preamble(d);
		d->stage = STAGE_HDR;
		d->have = 0;
		d->need = sizeof(struct migr_rec_hdr);
		break;
	case STAGE_HDR:
		rc = take_header(d);
		d->stage = STAGE_BODY;
		d->need = MIGR_REC_SIZE(d->length);
		if (!rc)
			head_next(d);
		break;
	case STAGE_HEAD:
		take_head(d);
		break;
	default:
		rc = take_body(d, rec);
		d->stage = STAGE_HDR;
		d->have = 0;
		d->need = sizeof(struct migr_rec_hdr);
		break;
	}
	return rc < 0 ? d->err : rc;
}

int migr_dec_feed(struct migr_dec *d, const uint8_t *p, size_t n, size_t *used, struct migr_rec *rec)
{
	size_t want, k;
	uint8_t *dst;
	int rc = d->err;

	*used = 0;
	while (!rc && *used < n) {
		dst = migr_dec_space(d, &want);
		k = n - *used < want ? n - *used : want;
		memcpy(dst, p + *used, k);
		*used += k;
		rc = migr_dec_commit(d, k, rec);
	}
	return rc;
}

int migr_vcpu_subs_check(const uint8_t *p, uint32_t len, uint32_t count)
{
	uint32_t seen = 0, i, off = 0, t, l;

	for (i = 0; i < count; i++) {
		if (len - off < sizeof(struct migr_sub_hdr))
			return HV_ERANGE;
		t = get_u32(p + off);
		l = get_u32(p + off + 4);
		off += sizeof(struct migr_sub_hdr);
		if (t == 0 || t >= MIGR_SUB_COUNT || (seen & (1u << t)))
			return HV_EINVAL;
		seen |= 1u << t;
		if (!length_ok(&sub_rules[t], l) || MIGR_PAD8(l) > len - off)
			return HV_ERANGE;
		if (!all_zero(p + off + l, MIGR_PAD8(l) - l))
			return HV_EINVAL;
		if (t == MIGR_SUB_MSRS && (get_u32(p + off) != (l - sizeof(struct migr_msrs)) / sizeof(struct migr_msr) ||
					   get_u32(p + off + 4) != 0))
			return HV_EINVAL;
		off += (uint32_t)MIGR_PAD8(l);
	}
	return off == len ? 0 : HV_ERANGE;
}

int migr_body_check(uint32_t type, const uint8_t *b, uint32_t len)
{
	switch (type) {
	case MIGR_REC_HEADER: {
		struct migr_header h;

		memcpy(&h, b, sizeof(h));
		if (h.flags || h.reserved || h.reserved2 || h.ram_bytes == 0 || h.ram_bytes % MIGR_PAGE_SIZE ||
		    h.vcpus == 0 || h.vcpus > MIGR_VCPUS_MAX || h.connections == 0 ||
		    h.connections > MIGR_CONN_MAX || h.tsc_hz == 0)
			return HV_EINVAL;
		return 0;
	}
	case MIGR_REC_CONN_BIND: {
		struct migr_conn_bind c;

		memcpy(&c, b, sizeof(c));
		return c.reserved || c.index == 0 || c.index > MIGR_CONN_MAX ? HV_EINVAL : 0;
	}
	case MIGR_REC_PAGE_DATA: {
		uint32_t count = get_u32(b + 8);

		if (count == 0 || count > MIGR_RUN_PAGES_MAX || len != MIGR_PAGE_DATA_LEN(count))
			return HV_ERANGE;
		return get_u32(b + 12) == 0 ? HV_EINVAL : 0;
	}
	case MIGR_REC_ZERO_PAGES: {
		uint32_t count = get_u32(b);

		if (count == 0 || count > MIGR_ZERO_MAX || len != MIGR_ZERO_PAGES_LEN(count))
			return HV_ERANGE;
		return get_u32(b + 4) == 0 ? HV_EINVAL : 0;
	}
	case MIGR_REC_PASS_BEGIN:
		return get_u32(b) == 0 || (get_u32(b + 4) & ~MIGR_PASS_FINAL) ? HV_EINVAL : 0;
	case MIGR_REC_PASS_END:
		return get_u32(b) == 0 || get_u32(b + 4) ? HV_EINVAL : 0;
	case MIGR_REC_VCPU_STATE:
		if (get_u32(b) >= MIGR_VCPUS_MAX)
			return HV_EINVAL;
		return migr_vcpu_subs_check(b + 8, len - 8, get_u32(b + 4));
	case MIGR_REC_DEVICE_STATE:
		return device_check(b, len);
	case MIGR_REC_TIME:
		return migr_get_u64(b + 8) == 0 ? HV_EINVAL : 0;
	case MIGR_REC_ERROR:
		if (get_u32(b) == 0 || get_u32(b + 4) != len - 8)
			return HV_EINVAL;
		return memchr(b + 8, 0, len - 8) ? HV_EINVAL : 0;
	case MIGR_REC_ACK:
		return get_u32(b) == 0 || get_u32(b) >= MIGR_REC_COUNT ? HV_EINVAL : 0;
	default:
		return 0;
	}
}

void migr_view_page_data(const struct migr_rec *r, struct migr_page_run *v)
{
	v->gfn = migr_get_u64(r->body);
	v->count = get_u32(r->body + 8);
	v->pass = get_u32(r->body + 12);
	v->hashes = r->body + sizeof(struct migr_page_data);
	v->data = r->pages ? r->pages : v->hashes + (size_t)v->count * 8;
}

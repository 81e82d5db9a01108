/*
 * The sender's pages: which pages a pass sends, how they become records
 * in chunks, and how chunks go to the data connections (see sender.h).
 */
#include <string.h>
#include "kernel/lib/bitmap.h"
#include "kernel/lib/err.h"
#include "migration/sender.h"
#include "migration/prof.h"
#include "migration/sender_priv.h"
#include "migration/xxh.h"

static int dirty_bit(const struct migr_sender *s, uint64_t gfn)
{
	return (s->b.bitmap[gfn / 64] >> (gfn % 64)) & 1;
}

static void clear_bit(struct migr_sender *s, uint64_t gfn)
{
	s->b.bitmap[gfn / 64] &= ~(1ull << (gfn % 64));
}

static int words_zero(const void *page)
{
	const uint64_t *w = page;
	size_t i;

	for (i = 0; i < MIGR_PAGE_SIZE / 8; i++)
		if (w[i])
			return 0;
	return 1;
}

static int page_zero(struct migr_sender *s, uint64_t gfn)
{
	uint64_t t0 = migr_prof_begin();
	int zero;

	if (s->p.memory.ops->page_is_zero)
		zero = s->p.memory.ops->page_is_zero(s->p.memory.ctx, gfn);
	else
		zero = s->p.memory.ops->read_page(s->p.memory.ctx, gfn, s->scratch) == HV_OK && words_zero(s->scratch);
	migr_prof_end(MIGR_PROF_ZERO, t0, MIGR_PAGE_SIZE);
	return zero;
}

static size_t flush_zero_list(struct migr_sender *s, struct migr_link *l, uint8_t *out, size_t cap)
{
	struct migr_zero_pages z = { .count = s->zl_n, .pass = s->prog.pass };
	uint8_t *b;
	size_t n;

	if (!s->zl_n)
		return 0;
	b = migr_enc_open(out, cap, MIGR_REC_ZERO_PAGES, (uint32_t)MIGR_ZERO_PAGES_LEN(s->zl_n));
	memcpy(b, &z, sizeof(z));
	memcpy(b + sizeof(z), s->zl, s->zl_n * 8);
	n = migr_enc_close(&l->tx, out);
	s->prog.zero_pages += s->zl_n;
	s->zl_n = 0;
	return n;
}

/* A run's record once its k pages are in place at data: their hashes, its head, its tag. */
static long close_run(struct migr_sender *s, struct migr_link *l, uint8_t *out, uint64_t gfn, uint32_t k,
		      const uint8_t *data)
{
	struct migr_page_data h = { .gfn = gfn, .count = k, .pass = s->prog.pass };
	uint8_t *hashes = out + sizeof(struct migr_rec_hdr) + sizeof(h);
	uint64_t hash, t0;
	uint32_t i;

	memcpy(out + sizeof(struct migr_rec_hdr), &h, sizeof(h));
	for (i = 0; i < k; i++) {
		t0 = migr_prof_begin();
		hash = migr_page_hash(data + (size_t)i * MIGR_PAGE_SIZE);
		migr_prof_end(MIGR_PROF_HASH, t0, MIGR_PAGE_SIZE);
		memcpy(hashes + (size_t)i * 8, &hash, 8);
		s->b.hashes[gfn + i] = hash;
		clear_bit(s, gfn + i);
	}
	s->prog.pages_sent += k;
	return (long)migr_enc_close(&l->tx, out);
}

/* One run of k dirty pages from gfn: read each page into the record, hash the bytes read. */
static long page_run(struct migr_sender *s, struct migr_link *l, uint64_t gfn, uint32_t k, uint8_t *out, size_t cap)
{
	uint8_t *data = migr_enc_open(out, cap, MIGR_REC_PAGE_DATA, (uint32_t)MIGR_PAGE_DATA_LEN(k)) +
			sizeof(struct migr_page_data) + (size_t)k * 8;
	uint64_t t0;
	uint32_t i;

	for (i = 0; i < k; i++) {
		t0 = migr_prof_begin();
		if (s->p.memory.ops->read_page(s->p.memory.ctx, gfn + i, data + (size_t)i * MIGR_PAGE_SIZE) < 0)
			return HV_ERANGE;
		migr_prof_end(MIGR_PROF_READ, t0, MIGR_PAGE_SIZE);
	}
	return close_run(s, l, out, gfn, k, data);
}

/*
 * With read_pages, a run is read before anything is known of its pages: up to kmax dirty pages from
 * gfn (and up to read_run) go straight into the record. Leading zero pages go to the zero list and
 * the record is dropped; else the record keeps its pages up to the first zero one, moved down to
 * where a record of that many pages holds them. Pages read past a cut are read again, so a cut makes
 * the next read as long as what the cut run took, and an uncut one doubles it: memory that mixes
 * zero and data pages page by page reads ~1.5 pages per page taken, not 32.
 * Returns the record's bytes (0: zero pages only), *took the pages dealt with; or a negative hv_err.
 */
static long read_first_run(struct migr_sender *s, struct migr_link *l, uint64_t gfn, uint32_t kmax, uint8_t *out,
			   size_t cap, uint32_t *took)
{
	uint32_t k, n, room = MIGR_ZERO_MAX - s->zl_n;
	uint8_t *b, *data;
	uint64_t t0;
	int zeros;

	if (!s->read_run)
		s->read_run = MIGR_RUN_PAGES_MAX;
	if (kmax > s->read_run)
		kmax = s->read_run;
	for (k = 1; k < kmax && gfn + k < s->npages && dirty_bit(s, gfn + k); k++)
		;
	b = migr_enc_open(out, cap, MIGR_REC_PAGE_DATA, (uint32_t)MIGR_PAGE_DATA_LEN(k));
	data = b + sizeof(struct migr_page_data) + (size_t)k * 8;
	t0 = migr_prof_begin();
	if (s->p.memory.ops->read_pages(s->p.memory.ctx, gfn, k, data) < 0)
		return HV_ERANGE;
	migr_prof_end(MIGR_PROF_READ, t0, (uint64_t)k * MIGR_PAGE_SIZE);
	t0 = migr_prof_begin();
	for (n = 0; n < k && n < room && words_zero(data + (size_t)n * MIGR_PAGE_SIZE); n++) {
		clear_bit(s, gfn + n);
		s->b.hashes[gfn + n] = s->zero_hash;
		s->zl[s->zl_n++] = gfn + n;
	}
	zeros = n != 0;
	if (!zeros)
		for (n = 1; n < k && !words_zero(data + (size_t)n * MIGR_PAGE_SIZE); n++)
			;
	migr_prof_end(MIGR_PROF_ZERO, t0, (uint64_t)k * MIGR_PAGE_SIZE);
	*took = n;
	if (n < k && (!zeros || n < room))
		s->read_run = n; /* cut by a page of the other kind, not by the zero list's room */
	else if (n == k && k == kmax && s->read_run < MIGR_RUN_PAGES_MAX)
		s->read_run = s->read_run * 2 < MIGR_RUN_PAGES_MAX ? s->read_run * 2 : MIGR_RUN_PAGES_MAX;
	if (zeros)
		return 0;
	if (n < k) {
		memmove(b + sizeof(struct migr_page_data) + (size_t)n * 8, data, (size_t)n * MIGR_PAGE_SIZE);
		b = migr_enc_open(out, cap, MIGR_REC_PAGE_DATA, (uint32_t)MIGR_PAGE_DATA_LEN(n));
		data = b + sizeof(struct migr_page_data) + (size_t)n * 8;
	}
	return close_run(s, l, out, gfn, n, data);
}

/*
 * Bytes of pages a chunk carries: what the link moves in MIGR_SEND_CHUNK_MS
 * at the measured bandwidth, within the buffer. A chunk is built in one
 * step (the vCPUs wait meanwhile), and what is built but not acknowledged
 * must cross before a switchover's last pages: on a slow link a full
 * buffer would be most of the downtime by itself.
 */
static size_t chunk_fill(const struct migr_sender *s)
{
	uint64_t fill = s->prog.bandwidth * MIGR_SEND_CHUNK_MS / 1000;

	if (!s->prog.bandwidth || fill > s->b.chunk_size)
		return s->b.chunk_size;
	return fill < MIGR_SEND_FILL_MIN ? MIGR_SEND_FILL_MIN : (size_t)fill;
}

/* Fills a chunk for connection c with the next dirty pages of the pass. */
static int build_chunk(struct migr_sender *s, struct migr_send_chunk *ch, uint8_t *out, uint32_t c)
{
	struct migr_link *l = &s->link[c];
	size_t reserve = MIGR_REC_SIZE(MIGR_ZERO_PAGES_LEN(MIGR_ZERO_MAX)), fill = chunk_fill(s);
	uint64_t gfn, before = s->pass_done_pages;
	uint32_t k, kmax;
	long n;

	ch->len = ch->off = 0;
	while (s->cursor < s->npages && ch->len < fill &&
	       s->b.chunk_size - ch->len >= MIGR_REC_SIZE(MIGR_BODY_MAX) + reserve) {
		gfn = bitmap_next_set(s->b.bitmap, s->npages, s->cursor);
		if (gfn >= s->npages) {
			s->cursor = s->npages;
			break;
		}
		if (s->p.memory.ops->read_pages) {
			kmax = (uint32_t)((fill - ch->len) / (MIGR_PAGE_SIZE + 8));
			n = read_first_run(s, l, gfn, kmax < MIGR_RUN_PAGES_MAX ? kmax : MIGR_RUN_PAGES_MAX,
					   out + ch->len, s->b.chunk_size - ch->len, &k);
			if (n < 0)
				return (int)n;
			ch->len += (size_t)n;
			s->cursor = gfn + k;
			s->pass_done_pages += k;
			if (s->zl_n == MIGR_ZERO_MAX)
				ch->len += flush_zero_list(s, l, out + ch->len, s->b.chunk_size - ch->len);
			continue;
		}
		if (page_zero(s, gfn)) {
			clear_bit(s, gfn);
			s->b.hashes[gfn] = s->zero_hash;
			s->zl[s->zl_n++] = gfn;
			s->cursor = gfn + 1;
			s->pass_done_pages++;
			if (s->zl_n == MIGR_ZERO_MAX)
				ch->len += flush_zero_list(s, l, out + ch->len, s->b.chunk_size - ch->len);
			continue;
		}
		kmax = (uint32_t)((fill - ch->len) / (MIGR_PAGE_SIZE + 8));
		if (kmax > MIGR_RUN_PAGES_MAX)
			kmax = MIGR_RUN_PAGES_MAX;
		for (k = 1; k < kmax && gfn + k < s->npages && dirty_bit(s, gfn + k) && !page_zero(s, gfn + k); k++)
			;
		n = page_run(s, l, gfn, k, out + ch->len, s->b.chunk_size - ch->len);
		if (n < 0)
			return (int)n;
		ch->len += (size_t)n;
		s->cursor = gfn + k;
		s->pass_done_pages += k;
	}
	ch->len += flush_zero_list(s, l, out + ch->len, s->b.chunk_size - ch->len);
	s->conn_pages[c] += s->pass_done_pages - before;
	ch->conn = ch->len ? c : 0;
	return HV_OK;
}

/* Bytes handed to the transport on every data connection, preambles included. */
uint64_t migr_sender_data_out(const struct migr_sender *s)
{
	uint64_t sum = 0;
	uint32_t c;

	for (c = 1; c <= s->granted; c++)
		sum += s->link[c].bytes_out;
	return sum;
}

/* The data connections carry this many bytes as late as now (one entry per count, its latest time). */
void migr_sender_log_written(struct migr_sender *s)
{
	uint64_t out = migr_sender_data_out(s), now = migr_sender_now(s);

	if (s->written_n && s->written_bytes[s->written_n - 1] == out) {
		s->written_t[s->written_n - 1] = now;
		return;
	}
	if (s->written_n == MIGR_SEND_WRITTEN_LOG) {
		memmove(s->written_bytes, s->written_bytes + 1, (MIGR_SEND_WRITTEN_LOG - 1) * sizeof(uint64_t));
		memmove(s->written_t, s->written_t + 1, (MIGR_SEND_WRITTEN_LOG - 1) * sizeof(uint64_t));
		s->written_n--;
	}
	s->written_bytes[s->written_n] = out;
	s->written_t[s->written_n++] = now;
}

/*
 * No more chunks while B has this much to read by its last report: enough
 * that it never runs dry before the next one (two reports' worth of bytes,
 * MIGR_PROGRESS_BYTES, or less when 100 ms bring fewer, and two round
 * trips at the measured rate), and not every buffer on the path, which the
 * pause would have to drain. No cap before B reports or a rate is measured.
 */
int migr_sender_path_full(const struct migr_sender *s)
{
	uint64_t cap;

	if (!s->peer_read || !s->prog.bandwidth)
		return 0;
	cap = 2 * (MIGR_PROGRESS_BYTES + migr_scale(s->prog.bandwidth, s->prog.rtt_us, 1000000));
	return migr_sender_data_out(s) - s->peer_read >= cap;
}

static struct migr_send_chunk *chunk_of(struct migr_sender *s, uint32_t c)
{
	uint32_t i;

	for (i = 0; i < s->b.window; i++)
		if (s->chunk[i].conn == c)
			return &s->chunk[i];
	return NULL;
}

/* Connection c writes its chunk, then its small records: 1 when it holds nothing more. */
static int drain(struct migr_sender *s, uint32_t c)
{
	struct migr_link *l = &s->link[c];
	struct migr_send_chunk *ch = chunk_of(s, c);
	int rc;

	if (ch) {
		rc = migr_link_write(l, &s->p.transport, s->b.chunks + (size_t)(ch - s->chunk) * s->b.chunk_size,
				     ch->len, &ch->off);
		if (rc <= 0)
			return rc;
		ch->conn = 0;
		s->prog.last_page_ticks = migr_sender_now(s);
	}
	return migr_link_flush(l, &s->p.transport);
}

/*
 * An idle connection takes the next chunk of the pass, if the window has
 * one free; at the end of the pass it queues its PASS_END behind its last
 * chunk. Returns 1 if it took a chunk.
 */
static int take(struct migr_sender *s, uint32_t c)
{
	struct migr_pass_end pe = { .pass = s->prog.pass, .pages = s->conn_pages[c] };
	struct migr_send_chunk *ch;
	int rc;

	if (s->cursor >= s->npages) {
		if (!s->pass_end_queued[c] && migr_link_queue(&s->link[c], MIGR_REC_PASS_END, &pe, sizeof(pe)) == HV_OK)
			s->pass_end_queued[c] = 1;
		rc = migr_link_flush(&s->link[c], &s->p.transport);
		return rc < 0 ? rc : 0;
	}
	ch = chunk_of(s, 0);
	if (!ch || s->draining || migr_sender_path_full(s))
		return 0;
	rc = build_chunk(s, ch, s->b.chunks + (size_t)(ch - s->chunk) * s->b.chunk_size, c);
	if (rc < 0)
		return rc;
	if (!s->prog.first_byte_ticks)
		s->prog.first_byte_ticks = migr_sender_now(s);
	return ch->conn != 0;
}

/*
 * Pull: every connection writes what it holds, and each one that drained
 * takes a chunk, starting one further each call so that a freed chunk goes
 * to whichever connection has room, not back to the one that freed it. At
 * most one chunk per connection per call: building is the step's cost (the
 * vCPUs and the network wait meanwhile), and the owner calls again at once
 * after progress.
 */
int migr_sender_pump(struct migr_sender *s)
{
	uint32_t k, c;
	int rc;

	migr_sender_log_written(s);
	for (k = 0; k < s->granted; k++) {
		c = 1 + (s->rr + k) % s->granted;
		rc = drain(s, c);
		if (rc == 1)
			rc = take(s, c);
		if (rc > 0)
			rc = drain(s, c);
		if (rc < 0)
			return rc;
	}
	s->rr++;
	migr_sender_log_written(s);
	return HV_OK;
}

uint64_t migr_sender_unsent(const struct migr_sender *s)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < s->b.window; i++)
		if (s->chunk[i].conn)
			sum += s->chunk[i].len - s->chunk[i].off;
	for (i = 0; i <= s->granted; i++)
		sum += s->link[i].out_len - s->link[i].out_off;
	return sum;
}

int migr_sender_pass_complete(const struct migr_sender *s)
{
	uint32_t c;

	if (s->cursor < s->npages)
		return 0;
	/* Every PASS_END handed to the transport: after the final pass nothing pumps any more. */
	for (c = 1; c <= s->granted; c++)
		if (!s->pass_end_queued[c] || s->link[c].out_off != s->link[c].out_len)
			return 0;
	return 1;
}

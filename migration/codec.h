/*
 * Record encoder and incremental decoder for the migration stream
 * (docs/migration-stream.md). Neither allocates nor touches guest memory:
 * the encoder writes into the caller's buffer, the decoder into the buffer
 * given at init (MIGR_REC_MAX bytes take every record; a smaller buffer, at
 * least MIGR_REC_SIZE(MIGR_DEC_MIN_BODY), refuses records that do not fit,
 * which suits connections that carry only small ones), and a decoded record is only
 * a validated view into that buffer, valid until the next call on the
 * decoder. Applying a record is the caller's job, after decoding succeeded.
 */
#ifndef MIGR_CODEC_H
#define MIGR_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include "migration/mac.h"
#include "migration/stream.h"

enum migr_conn_kind {
	MIGR_CONN_CONTROL = 0,
	MIGR_CONN_DATA = 1,
};

#define MIGR_DEC_MIN_BODY (sizeof(struct migr_error) + MIGR_ERROR_TEXT_MAX) /* ERROR fits always */
#define MIGR_CONN_UNBOUND 0xffffffffu /* a data connection before its CONN_BIND */

/* One direction of one connection as the sender sees it. */
struct migr_tx {
	const struct migr_mac *mac; /* NULL: not keyed yet, tags are zero */
	uint32_t conn;
	uint32_t dir;
	uint64_t seq;
};

void migr_tx_init(struct migr_tx *tx, uint32_t conn, uint32_t dir);
/* From the next record on, tags are computed under mac (sequence from 0). */
void migr_tx_key(struct migr_tx *tx, const struct migr_mac *mac);

/* Writes the 16-byte preamble; returns its size, or 0 if cap is too small. */
size_t migr_enc_preamble(uint8_t *out, size_t cap);
/*
 * Two-step encoding, so bodies (pages) can be built in place:
 * migr_enc_open writes the record header and returns where the len body
 * bytes go (NULL if MIGR_REC_SIZE(len) exceeds cap); migr_enc_close pads
 * and tags the record and returns its size on the wire.
 */
uint8_t *migr_enc_open(uint8_t *out, size_t cap, uint32_t type, uint32_t len);
size_t migr_enc_close(struct migr_tx *tx, uint8_t *rec);
/* One step: returns the record's size, or HV_ERANGE if it does not fit in cap. */
long migr_enc(struct migr_tx *tx, uint32_t type, const void *body, uint32_t len,
	      uint8_t *out, size_t cap);

/* A decoded, validated record: type without the optional bit. */
struct migr_rec {
	uint32_t type;
	uint32_t length;
	const uint8_t *body;
	const uint8_t *pages; /* PAGE_DATA received in place: its pages; NULL: they follow the hashes in body */
};

/*
 * Receiving in place: once a PAGE_DATA record's head (gfn, count, pass,
 * hashes) is read, place() says where its count pages go (contiguous and
 * writable, every range check done), or NULL to read them into the
 * decoder's buffer as any other record. The pages are then read straight
 * there and the tag checked over them where they lie, so a caller must
 * treat them as unverified until the record is returned, and throw the
 * memory away if the decoder fails.
 */
typedef uint8_t *(*migr_place_fn)(void *ctx, uint64_t gfn, uint32_t count);

struct migr_dec {
	uint8_t *buf;
	size_t cap;
	size_t have;      /* bytes of the current unit in buf */
	size_t need;      /* bytes the current unit needs in all */
	int stage;        /* preamble, record header, body */
	int err;          /* sticky: once failed, always failed */
	uint32_t why;     /* enum migr_error_code for the failure */
	uint32_t version; /* from the preamble */
	uint32_t kind;    /* enum migr_conn_kind */
	uint32_t conn;    /* index mixed into the MAC, or MIGR_CONN_UNBOUND */
	uint32_t dir;     /* direction of the records this decoder reads */
	uint64_t seq;
	const struct migr_mac *mac;
	uint32_t type;    /* current record's type field as sent */
	uint32_t length;
	uint64_t records; /* records returned */
	uint64_t skipped; /* unknown optional records skipped */
	uint8_t *base;    /* where the current unit's bytes go: buf, or placed pages, or buf past the body */
	migr_place_fn place;
	void *place_ctx;
	uint8_t *pages;   /* the placed pages of the current record */
	size_t head;      /* bytes of the current record in buf before its placed pages */
	struct migr_mac_state st; /* the running tag over a record received in place */
};

void migr_dec_init(struct migr_dec *d, uint8_t *buf, size_t cap, uint32_t kind,
		   uint32_t conn, uint32_t dir);
/* From the next record on, tags are verified under mac (sequence from 0). */
void migr_dec_key(struct migr_dec *d, const struct migr_mac *mac);
/* From the next record on, keyed PAGE_DATA records are received in place where place() says. */
void migr_dec_place(struct migr_dec *d, migr_place_fn place, void *ctx);
/*
 * Zero-copy input: migr_dec_space says where the next bytes go and how many
 * the decoder wants at most (>= 1); the caller puts up to that many there and
 * calls migr_dec_commit with the count. Returns 1 with *rec set when a whole
 * record passed every check, 0 when more bytes are needed, or a negative
 * hv_err (d->why says which ERROR code to send).
 */
uint8_t *migr_dec_space(struct migr_dec *d, size_t *n);
int migr_dec_commit(struct migr_dec *d, size_t n, struct migr_rec *rec);
/* Copying input: consumes from p until a record is complete or p is used up. */
int migr_dec_feed(struct migr_dec *d, const uint8_t *p, size_t n, size_t *used,
		  struct migr_rec *rec);

/* An ERROR code as an operator reads it ("range", "integrity", ...). */
const char *migr_error_str(uint32_t code);
/* A record type's name as the stream document spells it ("CONFIRM"), the optional bit ignored; "unknown" if none. */
const char *migr_rec_type_str(uint32_t type);

/* Body checks of docs/migration-stream.md, without any VM knowledge. */
int migr_body_check(uint32_t type, const uint8_t *body, uint32_t len);
/* The sub-record walk of a VCPU_STATE body after its 8-byte head. */
int migr_vcpu_subs_check(const uint8_t *p, uint32_t len, uint32_t count);

/* A PAGE_DATA body, once checked. */
struct migr_page_run {
	uint64_t gfn;
	uint32_t count;
	uint32_t pass;
	const uint8_t *hashes; /* count little-endian u64 */
	const uint8_t *data;   /* count pages */
};
void migr_view_page_data(const struct migr_rec *r, struct migr_page_run *v);
uint64_t migr_get_u64(const uint8_t *p);

#endif

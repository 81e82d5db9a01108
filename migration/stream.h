/*
 * The migration stream's wire format, version 1: a one-to-one mirror of
 * docs/migration-stream.md. Every structure here is what travels on the
 * wire (little-endian, as on x86-64); each has its size and alignment
 * checked at compile time, so a change that moves a byte fails the build.
 */
#ifndef MIGR_STREAM_H
#define MIGR_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define MIGR_VERSION 1u
#define MIGR_VERSION_MIN 1u /* the oldest version this build accepts */
#define MIGR_MAGIC "FERRYMIG"
#define MIGR_PAGE_SIZE 4096u
#define MIGR_PAGE_SHIFT 12u

#define MIGR_CONN_MAX 16u       /* data connections per migration */
#define MIGR_RUN_PAGES_MAX 32u  /* pages in one PAGE_DATA record */
#define MIGR_ZERO_MAX 512u      /* gfns in one ZERO_PAGES record */
#define MIGR_VCPUS_MAX 64u
#define MIGR_VCPU_STATE_MAX 4096u
#define MIGR_DEVICE_STATE_MAX 1024u
#define MIGR_ERROR_TEXT_MAX 120u
#define MIGR_MSRS_MAX 64u
#define MIGR_TAG_SIZE 16u
#define MIGR_NONCE_SIZE 32u
#define MIGR_PROOF_SIZE 32u
#define MIGR_KEY_SIZE 32u
#define MIGR_SESSION_ID_SIZE 16u

#define MIGR_OPTIONAL 0x80000000u /* record type bit: may be skipped if unknown */
#define MIGR_TYPE_MASK 0x7fffffffu

enum migr_rec_type {
	MIGR_REC_HELLO = 1,
	MIGR_REC_AUTH = 2,
	MIGR_REC_HEADER = 3,
	MIGR_REC_CONN_BIND = 4,
	MIGR_REC_PAGE_DATA = 5,
	MIGR_REC_ZERO_PAGES = 6,
	MIGR_REC_PASS_BEGIN = 7,
	MIGR_REC_PASS_END = 8,
	MIGR_REC_VCPU_STATE = 9,
	MIGR_REC_DEVICE_STATE = 10,
	MIGR_REC_TIME = 11,
	MIGR_REC_DIGEST = 12,
	MIGR_REC_READY = 13,
	MIGR_REC_COMMIT = 14,
	MIGR_REC_CONFIRM = 15,
	MIGR_REC_ERROR = 16,
	MIGR_REC_ACK = 17,
	MIGR_REC_END = 18,
	MIGR_REC_PROGRESS = 19, /* sent with MIGR_OPTIONAL: a peer that predates it skips it */
	MIGR_REC_RESUMED = 20,  /* the source called its pause off before COMMIT: the VM runs there, precopy goes on */
	MIGR_REC_COUNT
};

/* Record MAC algorithms named in HELLO. */
enum migr_mac_alg {
	MIGR_MAC_HMAC_SHA256_128 = 1,
	MIGR_MAC_POLY1305 = 2,
	MIGR_MAC_AES_GMAC = 3,
	MIGR_MAC_TEST = 0x7fff0000, /* unkeyed-strength test MAC: host tests only */
};

/* ERROR codes: why a migration ended, readable by an operator. */
enum migr_error_code {
	MIGR_ERR_PROTOCOL = 1,
	MIGR_ERR_AUTH = 2,
	MIGR_ERR_VERSION = 3,
	MIGR_ERR_RESOURCES = 4,
	MIGR_ERR_RANGE = 5,
	MIGR_ERR_INTEGRITY = 6,
	MIGR_ERR_CANCELLED = 7,
	MIGR_ERR_TIMEOUT = 8,
	MIGR_ERR_INTERNAL = 9,
};

#define MIGR_PASS_FINAL 1u /* PASS_BEGIN flag: the VM is paused */

/* Direction, as mixed into every record MAC. */
#define MIGR_DIR_A_TO_B 0u
#define MIGR_DIR_B_TO_A 1u

#define MIGR_WIRE(name, size)                                                  \
	_Static_assert(sizeof(struct name) == (size), #name " size");          \
	_Static_assert(_Alignof(struct name) <= 8, #name " alignment")

struct migr_preamble {
	uint8_t magic[8];
	uint32_t version;
	uint32_t reserved;
};
MIGR_WIRE(migr_preamble, 16);

struct migr_rec_hdr {
	uint32_t type;   /* enum migr_rec_type, optionally | MIGR_OPTIONAL */
	uint32_t length; /* body bytes, without padding and tag */
};
MIGR_WIRE(migr_rec_hdr, 8);

struct migr_hello {
	uint32_t version;
	uint32_t mac_alg;
	uint8_t nonce[MIGR_NONCE_SIZE];
	uint8_t proof[MIGR_PROOF_SIZE]; /* zero from A; B's proof from B */
};
MIGR_WIRE(migr_hello, 72);

struct migr_auth {
	uint8_t proof[MIGR_PROOF_SIZE];
};
MIGR_WIRE(migr_auth, 32);

struct migr_header {
	uint8_t uuid[16];
	uint64_t ram_bytes;
	uint32_t vcpus;
	uint32_t connections;
	uint64_t cpu_features;
	uint64_t tsc_hz;
	uint32_t flags;
	uint32_t reserved;
	uint64_t reserved2;
};
MIGR_WIRE(migr_header, 64);

struct migr_conn_bind {
	uint8_t session_id[MIGR_SESSION_ID_SIZE];
	uint32_t index;
	uint32_t reserved;
};
MIGR_WIRE(migr_conn_bind, 24);

/* Followed by uint64_t hash[count], then count pages of data. */
struct migr_page_data {
	uint64_t gfn;
	uint32_t count;
	uint32_t pass;
};
MIGR_WIRE(migr_page_data, 16);
#define MIGR_PAGE_DATA_LEN(n) (sizeof(struct migr_page_data) + (size_t)(n) * (8u + MIGR_PAGE_SIZE))

/* Followed by uint64_t gfn[count]. */
struct migr_zero_pages {
	uint32_t count;
	uint32_t pass;
};
MIGR_WIRE(migr_zero_pages, 8);
#define MIGR_ZERO_PAGES_LEN(n) (sizeof(struct migr_zero_pages) + (size_t)(n) * 8u)

struct migr_pass_begin {
	uint32_t pass;
	uint32_t flags; /* MIGR_PASS_FINAL */
	uint64_t pages;
};
MIGR_WIRE(migr_pass_begin, 16);

struct migr_pass_end {
	uint32_t pass;
	uint32_t reserved;
	uint64_t pages; /* pages this connection carried in the pass */
};
MIGR_WIRE(migr_pass_end, 16);

/* Followed by count sub-records, each a migr_sub_hdr, body, padding. */
struct migr_vcpu_state {
	uint32_t vcpu;
	uint32_t count;
};
MIGR_WIRE(migr_vcpu_state, 8);

enum migr_sub_type {
	MIGR_SUB_GPRS = 1,
	MIGR_SUB_SEGMENTS = 2,
	MIGR_SUB_CONTROL = 3,
	MIGR_SUB_FPU = 4,
	MIGR_SUB_DEBUG = 5,
	MIGR_SUB_MSRS = 6,
	MIGR_SUB_EVENTS = 7,
	MIGR_SUB_COUNT
};

struct migr_sub_hdr {
	uint32_t type;
	uint32_t length;
};
MIGR_WIRE(migr_sub_hdr, 8);

/* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 rip rflags */
struct migr_gprs {
	uint64_t reg[18];
};
MIGR_WIRE(migr_gprs, 144);

struct migr_segment {
	uint16_t selector;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
};
MIGR_WIRE(migr_segment, 16);

struct migr_dtable {
	uint64_t base;
	uint32_t limit;
	uint32_t reserved;
};
MIGR_WIRE(migr_dtable, 16);

/* es cs ss ds fs gs ldtr tr, then gdtr and idtr */
struct migr_segments {
	struct migr_segment seg[8];
	struct migr_dtable gdtr;
	struct migr_dtable idtr;
};
MIGR_WIRE(migr_segments, 160);

struct migr_control {
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
};
MIGR_WIRE(migr_control, 48);

struct migr_fpu {
	uint8_t fxsave[512];
};
MIGR_WIRE(migr_fpu, 512);

/* dr0 dr1 dr2 dr3 dr6 dr7 */
struct migr_debug {
	uint64_t dr[6];
};
MIGR_WIRE(migr_debug, 48);

/* Followed by n migr_msr entries. */
struct migr_msrs {
	uint32_t n;
	uint32_t reserved;
};
MIGR_WIRE(migr_msrs, 8);

struct migr_msr {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};
MIGR_WIRE(migr_msr, 16);

struct migr_events {
	uint32_t activity;
	uint32_t interruptibility;
	uint32_t pending_event;
	uint32_t error_code;
	uint64_t pending_debug;
};
MIGR_WIRE(migr_events, 24);

enum migr_device {
	MIGR_DEV_UART16550 = 1,     /* the first form: accepted, no longer sent */
	MIGR_DEV_PIC8259_PAIR = 2,
	MIGR_DEV_PIT8254 = 3,
	MIGR_DEV_RTC_CMOS = 4,
	MIGR_DEV_UART16550A = 5,
	MIGR_DEV_COUNT
};

/* Followed by the device's own state. */
struct migr_device_state {
	uint32_t device;
	uint32_t instance;
};
MIGR_WIRE(migr_device_state, 8);

struct migr_uart16550 {
	uint8_t ier, iir, lcr, mcr, lsr, msr, scr, dll, dlm;
	uint8_t reserved[7];
};
MIGR_WIRE(migr_uart16550, 16);

#define MIGR_PIC_NEED_ICW3 0x01u
#define MIGR_PIC_NEED_ICW4 0x02u
#define MIGR_PIC_AUTO_EOI 0x04u
#define MIGR_PIC_READ_ISR 0x08u
#define MIGR_PIC_INITIALIZED 0x10u
#define MIGR_PIC_FLAGS 0x1fu

struct migr_pic_chip {
	uint8_t irr, isr, imr, lines, vector_base, init_step, flags, reserved;
};
MIGR_WIRE(migr_pic_chip, 8);

/* The master, then the slave. */
struct migr_pic_pair {
	struct migr_pic_chip chip[2];
};
MIGR_WIRE(migr_pic_pair, 16);

#define MIGR_PIT_COUNTING 0x01u
#define MIGR_PIT_WRITE_MSB_NEXT 0x02u
#define MIGR_PIT_READ_MSB_NEXT 0x04u
#define MIGR_PIT_LATCHED 0x08u
#define MIGR_PIT_CH_FLAGS 0x0fu
#define MIGR_PIT_REFRESH 0x01u

struct migr_pit_channel {
	uint64_t load_tsc; /* the guest's TSC */
	uint64_t irqs;
	uint32_t reload;
	uint16_t latch;
	uint8_t mode, access, write_lsb, flags;
	uint8_t reserved[6];
};
MIGR_WIRE(migr_pit_channel, 32);

struct migr_pit {
	struct migr_pit_channel ch[3];
	uint8_t port_b, flags;
	uint8_t reserved[6];
};
MIGR_WIRE(migr_pit, 104);

struct migr_rtc {
	uint64_t reset_tsc; /* the guest's TSC */
	uint8_t index;
	uint8_t reserved[7];
	uint8_t ram[128];
};
MIGR_WIRE(migr_rtc, 144);

#define MIGR_UART_THRE_PENDING 0x01u

struct migr_uart16550a {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr, flags;
	uint8_t rx_count;
	uint8_t reserved[7];
	uint8_t rx[16];
};
MIGR_WIRE(migr_uart16550a, 32);

struct migr_time {
	uint64_t tsc_at_pause;
	uint64_t tsc_hz;
	uint64_t pause_ns;
};
MIGR_WIRE(migr_time, 24);

struct migr_digest {
	uint64_t digest;
	uint64_t pages;
};
MIGR_WIRE(migr_digest, 16);

/* Followed by text_len bytes of text, no NUL. */
struct migr_error {
	uint32_t code;
	uint32_t text_len;
};
MIGR_WIRE(migr_error, 8);

struct migr_ack {
	uint32_t type;
	uint32_t value;
};
MIGR_WIRE(migr_ack, 8);

#define MIGR_PROGRESS_MS 100u           /* B's PROGRESS period while pages flow, on its clock */
#define MIGR_PROGRESS_BYTES (8u << 20)  /* ... or sooner, once it has read this much more */

/* B's count of the bytes it has read on all its data connections together, preambles included. */
struct migr_progress {
	uint64_t data_bytes;
};
MIGR_WIRE(migr_progress, 8);

#define MIGR_BODY_MAX MIGR_PAGE_DATA_LEN(MIGR_RUN_PAGES_MAX)
_Static_assert(MIGR_BODY_MAX == 131344, "largest body as in the spec");
#define MIGR_PAD8(n) (((n) + 7u) & ~(size_t)7u)
/* Bytes a record with a body of len bytes occupies on the wire. */
#define MIGR_REC_SIZE(len) (sizeof(struct migr_rec_hdr) + MIGR_PAD8(len) + MIGR_TAG_SIZE)
#define MIGR_REC_MAX MIGR_REC_SIZE(MIGR_BODY_MAX)

#endif

/*
 * The five narrow interfaces the sender, the receiver and the policy stand
 * on, plus the VM hooks. Each is a table of functions and a context pointer;
 * the hypervisor implements them over lwIP, the VM's EPT, the dirty log and
 * the scheduler, a host test over buffers, a Linux program over sockets.
 * Nothing here may block: every call returns at once, and the state machines
 * come back on their next step.
 *
 * Threading: the sender and the receiver call a port only from their own
 * step function (or from a link event the port delivers into it), never
 * from two threads at once; a port that has work on other CPUs (vCPUs
 * dirtying memory) synchronises itself.
 */
#ifndef MIGR_PORT_H
#define MIGR_PORT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Byte transport, per connection. Connection 0 is the control connection,
 * 1..N the data connections. On the sender, open() starts connecting; on
 * the receiver, the port accepts connections by itself (the first one
 * accepted is 0, the next ones get the slots 1..MIGR_CONN_MAX in accept
 * order; CONN_BIND tells which data index a slot carries). Either way the
 * port reports each connection's fate by calling migr_sender_link() or
 * migr_receiver_link() with MIGR_LINK_UP or MIGR_LINK_FAILED.
 */
enum migr_link_event {
	MIGR_LINK_UP = 1,
	MIGR_LINK_FAILED = 2, /* refused, reset, timed out or closed by the peer */
};

struct migr_transport_ops {
	/* Starts connecting connection c (sender only); HV_OK or a negative hv_err. */
	int (*open)(void *ctx, uint32_t c);
	/* Bytes connection c takes now without blocking; 0 when its send buffer is full. */
	size_t (*room)(void *ctx, uint32_t c);
	/*
	 * Copies up to n <= room(c) bytes from buf (the caller keeps buf); returns the count taken (fewer
	 * than n when the room shrank meanwhile: the link writes the rest later) or a negative hv_err.
	 */
	long (*write)(void *ctx, uint32_t c, const void *buf, size_t n);
	/* Copies up to n received bytes into buf: the count, 0 if none yet, negative if failed. */
	long (*read)(void *ctx, uint32_t c, void *buf, size_t n);
	/* Closes c after what was written has gone out; no event follows. */
	void (*close)(void *ctx, uint32_t c);
	/* Bytes written on c that the peer has not acknowledged yet; NULL if unknown (counted as none). */
	size_t (*queued)(void *ctx, uint32_t c);
};

/*
 * Guest memory, in 4 KiB pages by guest frame number. Buffers belong to the
 * caller and are used only during the call.
 */
struct migr_memory_ops {
	uint64_t (*size)(void *ctx); /* bytes, a multiple of 4096 */
	/* Copies page gfn into dst; HV_ERANGE if gfn is outside the VM. */
	int (*read_page)(void *ctx, uint64_t gfn, void *dst);
	/* Copies src into page gfn; HV_ERANGE if gfn is outside the VM (checked here too). */
	int (*write_page)(void *ctx, uint64_t gfn, const void *src);
	/* Non-zero if page gfn holds only zeros now (may read it); NULL: the sender reads to find out. */
	int (*page_is_zero)(void *ctx, uint64_t gfn);
	/*
	 * Receiver, optional: where pages gfn..gfn+count-1 lie, contiguous and writable, so that they are
	 * received in place (codec.h, migr_dec_place), or NULL; a NULL op or result: through write_page.
	 */
	uint8_t *(*span)(void *ctx, uint64_t gfn, uint32_t count);
	/*
	 * Sender, optional: copies pages gfn..gfn+count-1 into dst, one after the other, in one step;
	 * HV_ERANGE if any is outside the VM. Where it is set the sender reads a run of dirty pages
	 * straight into its record and finds zero pages in that copy (page_is_zero is not called): for
	 * a port whose every read costs a call, as the Linux program's. NULL: read_page, page by page.
	 */
	int (*read_pages)(void *ctx, uint64_t gfn, uint32_t count, void *dst);
};

/*
 * The dirty log (sender only). harvest() is get-and-clear: every page
 * written since the previous harvest (or since start) has its bit set in
 * the caller's bitmap (bit gfn of word gfn / 64; bits already set stay
 * set), and is clear in the log before harvest() returns, so that a write
 * after it shows up in the next harvest. stop() is called after the last
 * harvest of a paused VM (every log drained) or on failure.
 */
struct migr_dirty_ops {
	int (*start)(void *ctx);
	/* Returns how many bits it set that were clear, or a negative hv_err. */
	long (*harvest)(void *ctx, uint64_t *bitmap, uint64_t npages);
	/* Pages dirtied since the last harvest, without clearing; NULL if unknown. */
	uint64_t (*pending)(void *ctx);
	/* Per-vCPU dirty rates in pages/s into out[0..max); returns the vCPU count; NULL if unknown. */
	uint32_t (*vcpu_rates)(void *ctx, uint64_t *out, uint32_t max);
	void (*stop)(void *ctx);
};

/* The throttle (sender only): one of the two tools at a time, as the policy says. */
struct migr_throttle_ops {
	/* Every vCPU loses pct percent of its time; 0 releases. */
	int (*set_percent)(void *ctx, uint32_t pct);
	/* The writing vCPUs are held to pages_per_s for the VM, each at most max_pct; 0 releases. */
	int (*set_dirty_limit)(void *ctx, uint64_t pages_per_s, uint32_t max_pct);
	/* Both released at once (the VM was paused, or the migration ended). */
	void (*release)(void *ctx);
};

/* A monotonic clock: now() in ticks, hz ticks per second. */
struct migr_clock_ops {
	uint64_t (*now)(void *ctx);
	uint64_t hz;
};

/*
 * The VM as the sender sees it: pause and resume, its state as opaque
 * bodies the codec checks for shape only. Buffers belong to the sender and
 * hold at least the named maximum.
 */
struct migr_source_vm_ops {
	int (*pause)(void *ctx);
	int (*resume)(void *ctx);
	/* After CONFIRM: the VM runs elsewhere; free it. */
	void (*release)(void *ctx);
	/* VCPU_STATE sub-records of vCPU i (after the 8-byte head): length, *count set. */
	long (*vcpu_state)(void *ctx, uint32_t i, uint8_t *buf, size_t cap, uint32_t *count);
	/* DEVICE_STATE body of device i (head included), or 0 when there is no device i. */
	long (*device_state)(void *ctx, uint32_t i, uint8_t *buf, size_t cap);
	/* TIME body at the pause. */
	int (*time)(void *ctx, uint8_t *buf, size_t cap);
	/* Fresh random bytes for nonces. */
	void (*random)(void *ctx, uint8_t *buf, size_t n);
};

/*
 * The VM as the receiver builds it. create() checks the header against
 * what this host can offer (memory, vCPUs, CPU features, TSC rate) and
 * makes the VM with zeroed memory, paused; the memory port works from
 * then on. Each load_* gets a body the codec validated; the receiver has
 * checked that its index is in range and not seen before.
 */
struct migr_dest_vm_ops {
	int (*create)(void *ctx, const uint8_t *header_body);
	int (*load_vcpu)(void *ctx, uint32_t vcpu, const uint8_t *subs, uint32_t len, uint32_t count);
	int (*load_device)(void *ctx, const uint8_t *body, uint32_t len);
	int (*load_time)(void *ctx, const uint8_t *body);
	/*
	 * On COMMIT: run it. downtime_ns is this host's view of the pause so
	 * far (from the final pass's start); the guest's TSC continues from the
	 * TIME record's tsc_at_pause plus at least this much, never less.
	 */
	int (*start)(void *ctx, uint64_t downtime_ns);
	/* Before COMMIT, on any failure: throw it away. */
	void (*discard)(void *ctx);
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	/*
	 * The source called its pause off (RESUMED): forget the vCPU, device
	 * and time state loaded since, so that the next pause loads it all again.
	 */
	void (*drop_state)(void *ctx);
};

/* Each port is its table with the context the table's functions get. */
struct migr_transport {
	const struct migr_transport_ops *ops;
	void *ctx;
};
struct migr_memory {
	const struct migr_memory_ops *ops;
	void *ctx;
};
struct migr_dirty {
	const struct migr_dirty_ops *ops;
	void *ctx;
};
struct migr_throttle {
	const struct migr_throttle_ops *ops;
	void *ctx;
};
struct migr_clock {
	const struct migr_clock_ops *ops;
	void *ctx;
};

#endif

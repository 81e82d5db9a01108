/*
 * The migration's transport port (migration/port.h) over POSIX TCP sockets:
 * one control and N data connections, non-blocking, driven by epoll. The
 * port only moves bytes: which chunk goes on which connection is the
 * sender's pull scheduling in migration/.
 *
 * write() hands the kernel what its socket buffer takes and reports the
 * count (the link layer keeps the rest for later), so page bytes go from
 * the sender's chunk into the kernel with no copy of ours in between; a
 * connection whose buffer filled has no room until epoll says it drained.
 * Reads go straight into the receiver's decode buffer.
 */
#ifndef LR_TCP_H
#define LR_TCP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include "migration/port.h"
#include "migration/stream.h"

#define LR_TCP_SLOTS (MIGR_CONN_MAX + 2) /* control, data, and one more to refuse */
#define LR_TCP_AHEAD 512u         /* see tp_read */
#define LR_TCP_AHEAD_MAX 65536u   /* see tp_read */

enum lr_conn_state { LR_C_NONE = 0, LR_C_CONNECTING, LR_C_UP, LR_C_CLOSING, LR_C_DEAD };

struct lr_tcp {
	int server;
	int epfd, lfd;
	struct sockaddr_in addr;
	int sockbuf;             /* bytes; 0: autotuning */
	char cc[16];             /* TCP congestion control set on each connection; "": the system's */
	int fd[LR_TCP_SLOTS];
	uint8_t state[LR_TCP_SLOTS];
	uint8_t blocked[LR_TCP_SLOTS]; /* the socket buffer was full at the last write */
	int lowat[LR_TCP_SLOTS];       /* SO_RCVLOWAT as last set (0: never set, the kernel's 1) */
	/* Bytes read past a small unit the reader asked for (tp_read), handed out before the socket is read again. */
	uint8_t ahead[LR_TCP_SLOTS][LR_TCP_AHEAD_MAX];
	uint32_t ahead_off[LR_TCP_SLOTS], ahead_len[LR_TCP_SLOTS];
	uint32_t bulk[LR_TCP_SLOTS];   /* reads of LR_TCP_AHEAD bytes or more (a record's pages): their moving average */
	uint8_t data_held;       /* test faults: the data connections take nothing for now */
	uint32_t accepted;
	/* Link events go to the owner's state machine. */
	void (*event)(void *owner, uint32_t conn, uint32_t event);
	void *owner;
	uint64_t bytes_in, bytes_out; /* in: handed to the reader */
	uint64_t t_closing;      /* ns: when lingering closes give up */
	char lost[96];           /* the first connection that failed and why, in words; "" if none did */
};

/*
 * The congestion control of the connections still to come: name where the kernel offers it; where it
 * does not, an error if required, else the system's default. The name in effect goes in used.
 * Returns 0, or -1 with a message in why.
 */
int lr_tcp_congestion(struct lr_tcp *t, const char *name, int required, char *used, size_t usedlen, char *why,
		      size_t whylen);
/* host is a dotted IPv4 address or "localhost". Returns 0 or -errno; on failure a message in why. */
int lr_tcp_client(struct lr_tcp *t, const char *host, uint16_t port, int sockbuf, char *why, size_t whylen);
int lr_tcp_server(struct lr_tcp *t, const char *host, uint16_t port, int sockbuf, char *why, size_t whylen);
/* Waits up to timeout_ms for socket events and delivers link events; returns how many fds had one. */
int lr_tcp_poll(struct lr_tcp *t, int timeout_ms);
/* Closes everything; connections closed by the state machine get up to linger_ms to drain first. */
void lr_tcp_shutdown(struct lr_tcp *t, int linger_ms);
/* The socket of connection c (test faults write around the state machine), or -1. */
int lr_tcp_fd(const struct lr_tcp *t, uint32_t c);
/* A blocking connection to the same peer, for the verification exchange after the migration. */
int lr_tcp_connect_blocking(const struct lr_tcp *t, int timeout_ms);
/* Accepts one connection on the listening socket within timeout_ms; -1 if none. */
int lr_tcp_accept_blocking(struct lr_tcp *t, int timeout_ms);

extern const struct migr_transport_ops lr_tcp_ops;

#endif

/*
 * lwIP configuration for the hypervisor's network stack.
 *
 * Bare metal, single context: the kernel drives lwIP from one loop (NIC
 * polling/IRQ bottom half + sys_check_timeouts()), IPv4 only, raw/callback
 * API only. Values not listed here keep lwIP's defaults (lwip/opt.h).
 * Anything kernel-specific (hooks, rand, byte order) lives in arch/cc.h.
 */
#ifndef HV_NET_LWIPOPTS_H
#define HV_NET_LWIPOPTS_H

/* ---- System model ------------------------------------------------------ */
#define NO_SYS                      1   /* no threads/semaphores/mboxes: lwIP runs in the kernel's main loop */
#define SYS_LIGHTWEIGHT_PROT        0   /* all lwIP calls happen in that one context, so no sys_arch_protect() needed */
#define LWIP_TIMERS                 1   /* lwIP's timeout list, driven by sys_check_timeouts() + kernel sys_now() */
#define LWIP_SOCKET                 0   /* BSD sockets need NO_SYS=0 */
#define LWIP_NETCONN                0   /* sequential API needs NO_SYS=0 */
#define LWIP_NETIF_API              0   /* thread-safe netif API needs NO_SYS=0 */

/* ---- Memory ------------------------------------------------------------ */
#define MEM_ALIGNMENT               8   /* natural alignment of u64/pointers on x86-64 */
#define MEM_LIBC_MALLOC             0   /* use lwIP's own heap (mem.c), not newlib malloc */
#define MEMP_MEM_MALLOC             0   /* use lwIP's own static memp pools */
#define MEM_USE_POOLS               0   /* heap is one contiguous lwIP heap, not pool-backed */
#define MEM_SIZE                    (256 * 1024) /* PBUF_RAM heap: copied TCP TX data (a 64 KiB TCP_SND_BUF) for a few connections + headers */

/* ---- Protocols --------------------------------------------------------- */
#define LWIP_IPV4                   1   /* IPv4 only */
#define LWIP_IPV6                   0   /* not needed; saves code and RAM */
#define LWIP_ARP                    1   /* Ethernet needs ARP */
#define LWIP_ETHERNET               1   /* ethernet.c: the NIC drivers are Ethernet */
#define LWIP_ICMP                   1   /* answer ping */
#define LWIP_RAW                    0   /* no raw IP pcbs needed (ICMP echo reply does not use them) */
#define LWIP_UDP                    1   /* needed by DHCP */
#define LWIP_TCP                    1   /* TCP (lwiperf, control channels) */
#define LWIP_DHCP                   1   /* address from the host's DHCP server */
#define LWIP_AUTOIP                 0   /* no link-local fallback */
#define LWIP_IGMP                   0   /* no multicast */
#define LWIP_DNS                    0   /* nothing resolves names */
#define LWIP_CALLBACK_API           1   /* raw API with callbacks (tcp_recv/tcp_sent...) */
#define LWIP_EVENT_API              0   /* ...rather than the single lwip_tcp_event() hook */

/* ---- netif --------------------------------------------------------------- */
#define LWIP_NETIF_STATUS_CALLBACK  1   /* kernel learns when DHCP has bound an address */
#define LWIP_NETIF_LINK_CALLBACK    1   /* kernel/driver can report link up/down */
#define LWIP_NETIF_HOSTNAME         1   /* DHCP client sends a hostname (option 12) */
#define LWIP_HAVE_LOOPIF            0   /* no 127.0.0.1 interface needed */
#define LWIP_NETIF_LOOPBACK         0   /* no sending to our own address */

/* ---- TCP, sized for throughput ----------------------------------------- */
#define TCP_MSS                     1460                 /* Ethernet MTU 1500 - 20 (IP) - 20 (TCP) */
#define LWIP_WND_SCALE              1                    /* RFC 7323 window scaling so TCP_WND may exceed 65535 */
#define TCP_RCV_SCALE               2                    /* shift 2: windows up to 256 KiB, 4-byte granularity */
#define TCP_WND                     (64 * 1024)          /* 64 KiB receive window: keeps a low-latency virtual link full */
#define TCP_SND_BUF                 (64 * 1024)          /* 64 KiB send buffer: one window of unacked data in flight */
#define TCP_SND_QUEUELEN            ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS) /* pbufs per send queue: lwIP's formula, >= 2*SND_BUF/MSS */
#define TCP_OVERSIZE                TCP_MSS              /* allocate MSS-sized pbufs so small writes coalesce into full segments */
#define TCP_QUEUE_OOSEQ             1                    /* keep out-of-order segments instead of forcing retransmits */
#define LWIP_TCP_TIMESTAMPS         0                    /* not needed at these window sizes; saves 12 bytes/segment */
#define LWIP_TCP_KEEPALIVE          0                    /* no long idle connections to probe */
#define TCP_LISTEN_BACKLOG          1                    /* bound pending connections per listener: half-open ones, and
                                                            accepted ones an application holds back (tcp_backlog_delayed) */

/* ---- memp pools ---------------------------------------------------------- */
/*
 * TCP connections of every service at once. When the pool runs dry lwIP
 * reuses the oldest TIME_WAIT, LAST_ACK, CLOSING pcb, in that order, then
 * refuses the SYN (the peer retries), so the count covers what must coexist:
 *   API (net/api/api_server.h): 16 served + a backlog of 40 (8 queued, 32 half-open) 56
 *   migration: 1 control + 16 data connections (API_CONNECTIONS_MAX), as sender
 *     and as receiver at once                                                          34
 *   iperf (kernel/selftest/perf.h): 4 streams + a backlog of 8 half-open             12
 *   TIME_WAIT of connections we closed first (2 MSL unless the pool needs them)         8
 */
#define SO_REUSE                    1   /* a migration listener binds its port again while the last one's connections sit in TIME-WAIT */
#define MEMP_NUM_TCP_PCB            (56 + 34 + 12 + 8)
#define MEMP_NUM_TCP_PCB_LISTEN     8                    /* listening TCP ports: API, iperf, migration, and spares */
#define MEMP_NUM_UDP_PCB            8                    /* DHCP uses one; a few spare */
#define MEMP_NUM_TCP_SEG            (2 * TCP_SND_QUEUELEN) /* >= TCP_SND_QUEUELEN (sanity check) + room for RX ooseq / a 2nd sender */
/* PBUF_REF/ROM for zero-copy tcp_write: lwiperf's 4 clients (kernel/selftest/perf.h) each keep a TCP_SND_BUF of
 * MSS-sized ROM pbufs queued or unacked (4 * 48); TCP_SND_QUEUELEN (180) alone ran short with 4. */
#define MEMP_NUM_PBUF               (4 * (TCP_SND_BUF / TCP_MSS + 4))
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4) /* lwIP's own timers + a few for the kernel */
#define PBUF_POOL_SIZE              256                  /* RX pbufs: NIC RX ring + a full 64 KiB window + ooseq (~384 KiB) */
/* PBUF_POOL_BUFSIZE stays at lwIP's default: one full-MSS Ethernet frame per pbuf. */

/* ---- Checksums / misc ---------------------------------------------------- */
#include "chksum.h"
#define LWIP_CHKSUM                 net_chksum /* one ADC per 8 bytes (net/chksum.c) */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1  /* the e1000 netif leaves outgoing TCP checksums to the device */
#define LWIP_STATS                  0   /* no counters on the hot path; enable (with LWIP_STATS_DISPLAY) to debug */

#endif /* HV_NET_LWIPOPTS_H */

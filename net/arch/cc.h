/*
 * lwIP compiler/platform port for the freestanding x86-64 hypervisor.
 *
 * Included by lwIP's lwip/arch.h before anything else. Types and format
 * macros come from newlib's <stdint.h>/<inttypes.h> (lwIP's defaults), GCC's
 * packing support is used as lwIP's defaults already do, so this file only
 * provides the platform hooks. The kernel implements hv_lwip_diag(),
 * hv_lwip_assert() and hv_lwip_rand() (and sys_now(), declared by lwip/sys.h).
 */
#ifndef HV_NET_ARCH_CC_H
#define HV_NET_ARCH_CC_H

#include <limits.h>
#include <stdint.h>

/*
 * newlib defines ssize_t (long) without SSIZE_MAX; lwIP's arch.h would then
 * typedef its own ssize_t and clash with <stdio.h>: say ours exists.
 */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

/* x86-64 is little endian; say so explicitly rather than relying on defaults. */
#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* Kernel-provided hooks. */
void hv_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hv_lwip_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
uint32_t hv_lwip_rand(void);

/*
 * lwIP calls LWIP_PLATFORM_DIAG(("fmt", args...)) with the argument list in
 * an extra pair of parentheses, hence "hv_lwip_diag x".
 */
#define LWIP_PLATFORM_DIAG(x)   do { hv_lwip_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) hv_lwip_assert((x), __FILE__, __LINE__)

/*
 * TCP hardening hooks (net/tcp_guard.c): keyed initial sequence numbers
 * (RFC 6528), and a SYN for a full listen backlog evicting the oldest
 * half-open connection. The types are lwIP's (u16_t, u32_t and, with IPv4
 * only, ip_addr_t = struct ip4_addr); the macros expand inside lwIP's files.
 */
struct ip4_addr;
struct netif;
struct pbuf;
uint32_t hv_tcp_isn(const struct ip4_addr *local_ip, uint16_t local_port, const struct ip4_addr *remote_ip,
		    uint16_t remote_port);
int hv_ip4_input_hook(struct pbuf *p, struct netif *inp);
#define LWIP_HOOK_TCP_ISN hv_tcp_isn
#define LWIP_HOOK_IP4_INPUT hv_ip4_input_hook

/* Random source for initial local ports, DHCP xid, etc. */
#define LWIP_RAND() ((u32_t)hv_lwip_rand())

/* Use the compiler's byte swaps instead of lwIP's generic C versions (hot path). */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

#endif /* HV_NET_ARCH_CC_H */

/* lwIP's platform hooks (arch/cc.h, lwip/sys.h): time, diagnostics, asserts, random numbers. */
#include <stdarg.h>
#include <stdio.h>
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/log.h"
#include "lwip/sys.h"

/* Milliseconds since boot; lwIP only compares differences, so the 32-bit wrap (49 days) is fine. */
u32_t sys_now(void) { return (u32_t)(time_uptime_us() / 1000); }

/* lwIP's messages carry their own line ends; the log adds one per line, so strip them. */
void hv_lwip_diag(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n > 0)
		log_info("lwip", "%s", buf);
}

/* An lwIP invariant broke: a host bug, so the machine stops with the place logged. */
void hv_lwip_assert(const char *msg, const char *file, int line)
{
	hv_panic("lwip assertion \"%s\" failed at %s:%d", msg, file, line);
}

/* xorshift64 seeded from the TSC: port numbers and DHCP xids need variety, not secrecy. */
uint32_t hv_lwip_rand(void)
{
	static uint64_t state;

	if (state == 0)
		state = rdtsc() | 1;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 32);
}

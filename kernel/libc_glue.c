/* The OS hooks newlib calls (this target has no leading underscores: MISSING_SYSCALL_NAMES). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "drivers/serial.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/strops.h"

#undef errno
extern int errno;

#define HEAP_SIZE (8u << 20)

static uint8_t heap[HEAP_SIZE] __attribute__((aligned(4096)));
static size_t heap_used;

void *sbrk(ptrdiff_t incr);
int write(int fd, const void *buf, size_t len);
int read(int fd, void *buf, size_t len);
int close(int fd);
int fstat(int fd, struct stat *st);
int isatty(int fd);
int lseek(int fd, int off, int whence);
int kill(int pid, int sig);
int getpid(void);
void _exit(int status);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);

/*
 * In place of newlib's: every guest page the migration moves is copied two
 * or three times (into a record, into lwIP, into the NIC's ring), and newlib's
 * unrolled loop costs an emulator that counts instructions about 0.3 ticks a
 * byte, REP MOVSQ 0.125 (kernel/arch/x86/hw/strops.h).
 */
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	str_copy(dst, src, n);
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	str_fill(dst, (uint8_t)c, n);
	return dst;
}

void *sbrk(ptrdiff_t incr)
{
	size_t old = heap_used;

	if ((incr > 0 && (size_t)incr > HEAP_SIZE - heap_used) || (incr < 0 && (size_t)-incr > heap_used)) {
		errno = ENOMEM;
		return (void *)-1;
	}
	heap_used += (size_t)incr;
	return heap + old;
}

int write(int fd, const void *buf, size_t len)
{
	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return -1;
	}
	serial_write(buf, len);
	return (int)len;
}

int read(int fd, void *buf, size_t len)
{
	(void)fd, (void)buf, (void)len;
	return 0;
}

int close(int fd)
{
	(void)fd;
	errno = EBADF;
	return -1;
}

int fstat(int fd, struct stat *st)
{
	(void)fd;
	st->st_mode = S_IFCHR; /* line-buffered stdout */
	return 0;
}

int isatty(int fd)
{
	(void)fd;
	return 1;
}

int lseek(int fd, int off, int whence)
{
	(void)fd, (void)off, (void)whence;
	return 0;
}

int kill(int pid, int sig)
{
	(void)pid, (void)sig;
	errno = EINVAL;
	return -1;
}

int getpid(void) { return 1; }

void _exit(int status)
{
	(void)status;
	cpu_halt_forever();
}

/* Random bytes for identities and nonces: RDRAND where the CPU has it, mixed with the TSC. */
#ifndef HV_KERNEL_ARCH_X86_RANDOM_H
#define HV_KERNEL_ARCH_X86_RANDOM_H

#include <stddef.h>

/*
 * Fills buf with n bytes. The TSC alone keeps them distinct from call to
 * call; RDRAND makes them unpredictable, and is used whenever it delivers.
 */
void random_bytes(void *buf, size_t n);

#endif

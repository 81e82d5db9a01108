/*
 * Host tests' stand-in for kernel/arch/x86/hw/hwops.h, found first on their include
 * path: the VMX instructions act on the fake VMCS of vmcs_fake.h. Only what
 * the code under test uses is declared; anything else fails to compile.
 */
#ifndef HV_KERNEL_HW_HWOPS_H
#define HV_KERNEL_HW_HWOPS_H

#include <stdint.h>

#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2

/* Each returns 0 on success, -1 on VMfailInvalid, -2 on VMfailValid, as the real ones. */
int vmptrld(uint64_t pa);
int vmclear(uint64_t pa);
int vmread(uint64_t field, uint64_t *value);
int vmwrite(uint64_t field, uint64_t value);
int invept(uint64_t type, uint64_t eptp);
/* Reads fake_vmx.tsc (tests/unit/fake_vmcs/vmcs_fake.h). */
uint64_t rdtsc(void);

#endif

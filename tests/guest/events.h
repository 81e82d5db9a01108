/*
 * The "events" mode: every vCPU takes exceptions in a loop and checks that
 * each one arrived. One round is an INT3 (#BP), a UD2 (#UD), a MOV to CR4
 * that sets OSXSAVE (#GP: CPUID offers no XSAVE) and a block of
 * instructions single-stepped with EFLAGS.TF, emulated ones (CPUID, IN, OUT,
 * VMCALL) among them, each of which must raise one #DB. The exception frames
 * go to the vCPU's stack, so with log-dirty mode on, event delivery is what
 * write-faults on a freshly protected stack page.
 */
#ifndef GUEST_EVENTS_H
#define GUEST_EVENTS_H

#include <stdint.h>
#include "kernel/guest_abi.h"

void events_run(const struct hv_boot_params *bp, uint32_t vcpu) __attribute__((noreturn));

#endif

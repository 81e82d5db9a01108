/*
 * The compute workload (guest.mode=compute, and vCPUs 1.. in mode mixed):
 * register arithmetic only, no memory written but one counter, so that a
 * throttle's effect shows as work done, with no dirty pages at all.
 */
#ifndef GUEST_COMPUTE_H
#define GUEST_COMPUTE_H

#include <stdint.h>
#include "kernel/guest_abi.h"

/* Runs forever: counts work units in a counter the host can read, prints progress lines. */
void compute_run(const struct hv_boot_params *bp, uint32_t vcpu) __attribute__((noreturn));

#endif

/*
 * The dirty-rate limit controller: from each vCPU's measured dirty rate and
 * the throttle it ran under, the throttle that brings the VM to its target
 * rate. Pure: numbers in, numbers out.
 */
#ifndef HV_KERNEL_CORE_THROTTLE_CTL_H
#define HV_KERNEL_CORE_THROTTLE_CTL_H

#include <stdint.h>

#define THROTTLE_CTL_MAX_VCPUS 16

/*
 * rate[i]: pages/s vCPU i dirtied while throttled at cur[i] percent.
 * Splits target (pages/s for the whole VM) between the vCPUs by max-min
 * fairness of their unthrottled rates: a vCPU that writes less than an
 * equal share keeps full speed and its unused share goes to the others;
 * only the heavier writers are throttled, all to the same rate. Each new
 * throttle moves halfway from cur[i] towards what that split calls for
 * (rates are measured over a window longer than the control step), within
 * [0, max_pct]. n must be at most THROTTLE_CTL_MAX_VCPUS.
 */
void throttle_ctl_dirty_limit(const uint64_t *rate, const unsigned *cur, unsigned n, uint64_t target,
			      unsigned max_pct, unsigned *out);

#endif

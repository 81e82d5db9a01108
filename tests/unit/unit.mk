# Host unit tests (Check), built with ASan and UBSan. Included by the top
# Makefile, with paths relative to the repository root.
#
# To add a test: put it in tests/unit/test_<name>.c, then in the includer
#   UNIT_TESTS += test_<name>
#   UNIT_SRCS_test_<name> := kernel/<name>.c kernel/err.c
# Both may come after the include: they are read through second expansion.
# A test of code that executes privileged instructions also sets
#   UNIT_FAKE_test_<name> := yes
# and is built with tests/unit/fake/ first on the include path, so that
# kernel/hw/hwops.h is the fake one (a VMCS in an array, registers in
# variables), plus the fakes of the kernel services around the VM-exit
# handlers (tests/unit/fake/*.c).
# The log-dirty test keeps a fake of its own, one VMCS per address with injected faults:
#   UNIT_INCS_test_<name> := -Itests/unit/fake_vmcs
# Note: this turns on .SECONDEXPANSION for every rule that follows the include
# ("$$" in a later prerequisite list is expanded twice).

BUILD ?= build

UNIT_TESTS := test_config test_multiboot2
UNIT_SRCS_test_config := kernel/config.c kernel/err.c
UNIT_SRCS_test_multiboot2 := kernel/multiboot2.c kernel/err.c
UNIT_TESTS += test_multiboot1
UNIT_SRCS_test_multiboot1 := kernel/multiboot1.c kernel/multiboot2.c kernel/err.c
UNIT_TESTS += test_ept test_sched test_frame_pool test_vmx_caps
UNIT_SRCS_test_ept := kernel/ept.c kernel/err.c
UNIT_SRCS_test_sched := kernel/sched.c kernel/err.c
UNIT_SRCS_test_frame_pool := kernel/mem/frame_pool.c kernel/err.c
UNIT_SRCS_test_vmx_caps := kernel/vmx/caps_check.c kernel/err.c
UNIT_TESTS += test_dirty_bitmap test_rate
UNIT_SRCS_test_dirty_bitmap := kernel/dirty_bitmap.c kernel/err.c
UNIT_SRCS_test_rate := kernel/rate.c kernel/err.c
UNIT_TESTS += test_throttle_ctl
UNIT_SRCS_test_throttle_ctl := kernel/throttle_ctl.c kernel/err.c
UNIT_TESTS += test_http test_api
UNIT_SRCS_test_http := net/http.c kernel/err.c
UNIT_SRCS_test_api := net/api.c net/http.c kernel/err.c
# Code that touches the VMCS: compiled as it is, against tests/unit/fake_vmcs/.
UNIT_TESTS += test_dirty
UNIT_SRCS_test_dirty := kernel/vmx/dirty.c kernel/vmx/vmcs_access.c kernel/ept.c kernel/dirty_bitmap.c \
	kernel/rate.c kernel/err.c tests/unit/fake_vmcs/vmcs_fake.c
UNIT_INCS_test_dirty := -Itests/unit/fake_vmcs
UNIT_TESTS += test_vmx_exits test_cpuid_policy
UNIT_FAKE_test_vmx_exits := yes
UNIT_SRCS_test_vmx_exits := kernel/vmx/exit.c $(wildcard kernel/vmx/exits/*.c) kernel/vmx/vmcs_access.c \
	kernel/vmx/event.c kernel/vmx/cpuid_policy.c kernel/vmx/debug.c kernel/vmx/vmx.c kernel/vmx/caps.c \
	kernel/vmx/caps_check.c kernel/err.c
UNIT_SRCS_test_cpuid_policy := kernel/vmx/cpuid_policy.c
UNIT_TESTS += test_api_policy
UNIT_SRCS_test_api_policy := net/api_policy.c net/siphash.c

UNIT_CC ?= gcc
UNIT_CFLAGS := -std=c11 -O1 -g -Wall -Wextra -Werror \
	-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -I.
UNIT_CHECK_CFLAGS := $(shell pkg-config --cflags check)
UNIT_CHECK_LIBS := $(shell pkg-config --libs check)
# No per-file dependency tracking: rebuild when any project header changes.
UNIT_HDRS = $(wildcard kernel/*.h kernel/*/*.h drivers/*.h net/*.h migration/*.h tests/unit/*.h) \
	$(wildcard tests/unit/fake/*.h tests/unit/fake/kernel/hw/*.h tests/unit/fake_vmcs/*.h \
	tests/unit/fake_vmcs/kernel/hw/*.h)
UNIT_FAKE_SRCS := $(wildcard tests/unit/fake/*.c)

.SECONDEXPANSION:

# Each test is one compile-and-link of its file plus the sources it lists.
$(BUILD)/unit/test_%: tests/unit/test_%.c $$(UNIT_SRCS_test_$$*) $$(if $$(UNIT_FAKE_test_$$*),$$(UNIT_FAKE_SRCS)) \
		$$(UNIT_HDRS) tests/unit/unit.mk
	@mkdir -p $(@D)
	$(UNIT_CC) $(if $(UNIT_FAKE_test_$*),-Itests/unit/fake) $(UNIT_INCS_test_$*) $(UNIT_CFLAGS) $(UNIT_CHECK_CFLAGS) -o $@ \
		$(filter %.c,$^) $(UNIT_CHECK_LIBS)

# Runs each test in turn and stops at the first failure; Check prints one
# summary line per test ("100%: Checks: N, Failures: 0, Errors: 0").
.PHONY: unit-test
unit-test: $$(addprefix $$(BUILD)/unit/,$$(UNIT_TESTS))
	@set -e; for t in $^; do \
		printf '%s: ' "$${t##*/}"; \
		$$t || { echo "unit-test: $$t failed" >&2; exit 1; }; \
	done
UNIT_TESTS += test_migr_stream
UNIT_SRCS_test_migr_stream := migration/codec.c migration/mac.c migration/mac_test.c kernel/err.c
UNIT_TESTS += test_migr_policy
UNIT_SRCS_test_migr_policy := migration/policy.c kernel/err.c
UNIT_TESTS += test_migr_e2e
UNIT_SRCS_test_migr_e2e := migration/sender.c migration/sender_pages.c migration/receiver.c migration/link.c migration/codec.c \
	migration/mac.c migration/mac_test.c migration/policy.c kernel/err.c
# The record MACs on mbed TLS (mk/mbedtls.mk's host library, same sources and configuration as the hypervisor's).
UNIT_TESTS += test_migr_mac
UNIT_SRCS_test_migr_mac := migration/mac_mbedtls.c migration/mac.c
UNIT_INCS_test_migr_mac := $(MBEDTLS_CPPFLAGS)
UNIT_SRCS_test_migr_e2e += migration/mac_mbedtls.c
UNIT_INCS_test_migr_e2e := $(MBEDTLS_CPPFLAGS)
$(BUILD)/unit/test_migr_mac $(BUILD)/unit/test_migr_e2e: $(MBEDTLS_HOST_LIB) $(MBEDTLS_STAMP) $(MBEDTLS_CONFIG)
$(BUILD)/unit/test_migr_mac $(BUILD)/unit/test_migr_e2e: UNIT_CHECK_LIBS += $(MBEDTLS_HOST_LIB)
UNIT_TESTS += test_sim_model
SIM_THROTTLE_CTL ?= $(firstword $(wildcard kernel/core/throttle_ctl.c kernel/throttle_ctl.c))
UNIT_SRCS_test_sim_model := sim/run.c sim/track.c sim/link.c sim/policies.c migration/policy.c $(SIM_THROTTLE_CTL)

# Host unit tests (Check), built with ASan and UBSan. Included by the top
# Makefile, with paths relative to the repository root.
#
# To add a test: put it in tests/unit/test_<name>.c, then in the includer
#   UNIT_TESTS += test_<name>
#   UNIT_SRCS_test_<name> := kernel/core/<name>.c kernel/lib/err.c
# Both may come after the include: they are read through second expansion.
# A test of code that executes privileged instructions also sets
#   UNIT_FAKE_test_<name> := yes
# and its sources are built apart with tests/unit/fake/ first on the include
# path, so that kernel/arch/x86/hw/hwops.h is the fake one (registers, MSRs,
# CPUID and the TSC in variables, one VMCS per address with injected
# faults), and linked with the fake hardware (UNIT_FAKE_HW). The fakes of
# the kernel services around the exit handlers (tests/unit/fake/fake_env.c)
# are a source like any other.
# Note: this turns on .SECONDEXPANSION for every rule that follows the include
# ("$$" in a later prerequisite list is expanded twice).

BUILD ?= build

# kernel/lib: what the command line and the API share.
UNIT_LIB := kernel/lib/err.c kernel/lib/parse.c kernel/lib/strbuf.c kernel/lib/uuid.c
UNIT_TESTS := test_lib test_config test_multiboot2
UNIT_SRCS_test_lib := $(UNIT_LIB)
UNIT_SRCS_test_config := kernel/core/config.c $(UNIT_LIB)
UNIT_SRCS_test_multiboot2 := kernel/core/multiboot2.c kernel/lib/err.c
UNIT_TESTS += test_multiboot1
UNIT_SRCS_test_multiboot1 := kernel/core/multiboot1.c kernel/core/multiboot2.c kernel/lib/err.c
UNIT_TESTS += test_ept test_sched test_frame_pool test_vmx_caps
UNIT_SRCS_test_ept := kernel/core/ept.c kernel/lib/err.c
UNIT_SRCS_test_sched := kernel/core/sched.c kernel/lib/err.c
UNIT_SRCS_test_frame_pool := kernel/core/frame_pool.c kernel/lib/err.c
UNIT_SRCS_test_vmx_caps := kernel/arch/x86/vmx/caps_check.c kernel/lib/err.c
UNIT_TESTS += test_strops
UNIT_SRCS_test_strops := net/chksum.c
UNIT_TESTS += test_guest_paging
UNIT_SRCS_test_guest_paging := kernel/arch/x86/guest_paging.c kernel/lib/err.c
UNIT_TESTS += test_pagevec
UNIT_SRCS_test_pagevec := kernel/arch/x86/pagevec.c kernel/arch/x86/pagevec_avx512.c
$(BUILD)/unit/obj/kernel/arch/x86/pagevec_avx512.o: UNIT_CFLAGS += -mavx512f
UNIT_TESTS += test_dirty_bitmap test_rate
UNIT_SRCS_test_dirty_bitmap := kernel/core/dirty_bitmap.c kernel/lib/err.c
UNIT_SRCS_test_rate := kernel/core/rate.c kernel/lib/err.c
UNIT_TESTS += test_throttle_ctl
UNIT_SRCS_test_throttle_ctl := kernel/core/throttle_ctl.c kernel/lib/err.c
UNIT_TESTS += test_http test_api
UNIT_SRCS_test_http := net/api/http.c kernel/lib/err.c
UNIT_SRCS_test_api := net/api/api.c net/api/api_body.c net/api/api_link.c net/api/http.c $(UNIT_LIB)
# Code that touches the VMCS: compiled as it is, against tests/unit/fake/.
UNIT_TESTS += test_dirty
UNIT_FAKE_test_dirty := yes
UNIT_SRCS_test_dirty := kernel/vmm/dirty.c kernel/vmm/dirty_log.c kernel/arch/x86/vmx/dirty_backends.c \
	kernel/arch/x86/vmx/dirty_pml.c kernel/arch/x86/vmx/dirty_wp.c kernel/arch/x86/vmx/vmcs_access.c \
	kernel/core/ept.c kernel/core/dirty_bitmap.c kernel/core/rate.c kernel/lib/err.c
UNIT_TESTS += test_vcpu_state
UNIT_FAKE_test_vcpu_state := yes
UNIT_SRCS_test_vcpu_state := kernel/arch/x86/vmx/state.c kernel/arch/x86/vmx/vmcs_access.c kernel/arch/x86/vmx/vmsr.c
UNIT_TESTS += test_vmx_exits test_cpuid_policy
UNIT_FAKE_test_vmx_exits := yes
UNIT_SRCS_test_vmx_exits := kernel/arch/x86/vmx/exit.c $(wildcard kernel/arch/x86/vmx/exits/*.c) kernel/arch/x86/guest_paging.c \
	kernel/arch/x86/vmx/guest_view.c kernel/vmm/vm_mem.c \
	kernel/arch/x86/vmx/exit_reason.c kernel/arch/x86/vmx/vmcs_access.c kernel/arch/x86/vmx/event.c \
	kernel/arch/x86/vmx/inject.c kernel/arch/x86/vmx/cpuid_policy.c kernel/arch/x86/vmx/debug.c \
	kernel/arch/x86/vmx/vmsr.c kernel/arch/x86/vmx/irq.c \
	kernel/arch/x86/vmx/vmx.c kernel/arch/x86/vmx/caps.c kernel/arch/x86/vmx/caps_check.c kernel/lib/err.c \
	tests/unit/fake/fake_env.c
UNIT_SRCS_test_cpuid_policy := kernel/arch/x86/vmx/cpuid_policy.c
UNIT_TESTS += test_xstate
UNIT_FAKE_test_xstate := yes
UNIT_SRCS_test_xstate := kernel/arch/x86/xstate.c
# A VM created and destroyed over and over: the real VM model, VMCS and log-dirty code on the fake hardware.
UNIT_TESTS += test_vm_lifecycle
UNIT_FAKE_test_vm_lifecycle := yes
UNIT_SRCS_test_vm_lifecycle := kernel/vmm/vm.c kernel/vmm/vm_destroy.c kernel/vmm/vm_mem.c kernel/vmm/vcpu.c \
	kernel/vmm/dirty.c kernel/vmm/dirty_log.c kernel/vmm/throttle.c kernel/vmm/vuart.c kernel/vmm/vm_load.c \
	kernel/vmm/vdev.c kernel/vmm/vpic.c kernel/vmm/vpit.c kernel/vmm/vrtc.c kernel/core/linux_boot.c \
	kernel/arch/x86/vmx/vcpu.c kernel/arch/x86/vmx/vmx.c kernel/arch/x86/vmx/caps.c kernel/arch/x86/vmx/caps_check.c \
	kernel/arch/x86/vmx/vmcs_access.c kernel/arch/x86/vmx/dirty_backends.c kernel/arch/x86/vmx/dirty_pml.c \
	kernel/arch/x86/vmx/vmsr.c \
	kernel/arch/x86/vmx/dirty_wp.c kernel/core/ept.c kernel/core/frame_pool.c kernel/core/dirty_bitmap.c \
	kernel/core/rate.c kernel/core/sched.c kernel/core/throttle_ctl.c $(UNIT_LIB)
UNIT_TESTS += test_api_policy
UNIT_SRCS_test_api_policy := net/api/api_policy.c net/siphash.c

UNIT_CC ?= gcc
UNIT_CFLAGS := -std=c11 -O1 -g -Wall -Wextra -Werror $(filter-out -Wshadow,$(HV_WARNINGS)) \
	-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -I.
UNIT_CHECK_CFLAGS := $(shell pkg-config --cflags check)
UNIT_CHECK_LIBS := $(shell pkg-config --libs check)
.SECONDEXPANSION:

# Sources compile once each, with the headers they include listed beside
# the object (-MMD); a test links its own file's object with its sources'.
$(BUILD)/unit/obj/%.o: %.c tests/unit/unit.mk
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) $(UNIT_CHECK_CFLAGS) -MMD -MP -c $< -o $@

# A fake's tests compile their sources apart, with the fake first on the
# include path, and link the fake hardware.
UNIT_FAKE_HW := tests/unit/fake/fake_hw.c tests/unit/fake/fake_vmcs.c
$(BUILD)/unit/obj-fake/%.o: %.c tests/unit/unit.mk
	@mkdir -p $(@D)
	$(UNIT_CC) -Itests/unit/fake $(UNIT_CFLAGS) $(UNIT_CHECK_CFLAGS) -MMD -MP -c $< -o $@

.PRECIOUS: $(BUILD)/unit/obj/%.o $(BUILD)/unit/obj-fake/%.o
# unit_objs SOURCES,FAKE: the objects of SOURCES, built against the fake if FAKE is set
unit_objs = $(addprefix $(BUILD)/unit/obj$(if $(2),-fake)/,$(addsuffix .o,$(basename $(1))))

$(BUILD)/unit/test_%: $$(call unit_objs,tests/unit/test_$$*.c $$(UNIT_SRCS_test_$$*) \
		$$(if $$(UNIT_FAKE_test_$$*),$$(UNIT_FAKE_HW)),$$(UNIT_FAKE_test_$$*))
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ $^ $(UNIT_CHECK_LIBS)

-include $(shell find $(BUILD)/unit -name '*.d' 2>/dev/null)

# Runs each test in turn and stops at the first failure; Check prints one
# summary line per test ("100%: Checks: N, Failures: 0, Errors: 0").
.PHONY: unit-test
# Check's own 4 s per test is too short on a loaded 2-core machine (sanitizers on): a hang still ends.
unit-test: $$(addprefix $$(BUILD)/unit/,$$(UNIT_TESTS))
	@set -e; for t in $^; do \
		printf '%s: ' "$${t##*/}"; \
		CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-120} $$t || { echo "unit-test: $$t failed" >&2; exit 1; }; \
	done
UNIT_TESTS += test_migr_stream
UNIT_SRCS_test_migr_stream := migration/codec.c migration/prof.c migration/mac.c migration/mac_test.c kernel/lib/err.c \
	$(XXH_PATH_SRCS)
$(call xxh_path_flags,$(BUILD)/unit/obj/migration/xxh_%.o,UNIT_CFLAGS)
UNIT_TESTS += test_migr_xxh
UNIT_SRCS_test_migr_xxh := $(XXH_PATH_SRCS)
UNIT_TESTS += test_migr_inplace
UNIT_SRCS_test_migr_inplace := $(UNIT_SRCS_test_migr_stream)
UNIT_TESTS += test_migr_policy
UNIT_TESTS += test_migr_hv_vcpu
UNIT_SRCS_test_migr_hv_vcpu := migration/hv_vcpu.c migration/codec.c migration/prof.c migration/mac.c kernel/lib/err.c
UNIT_SRCS_test_migr_policy := migration/policy.c kernel/lib/err.c
UNIT_TESTS += test_migr_e2e
UNIT_SRCS_test_migr_e2e := migration/prof.c migration/sender.c migration/sender_end.c migration/sender_pages.c migration/sender_policy.c migration/receiver.c migration/link.c migration/codec.c \
	migration/mac.c migration/mac_test.c migration/policy.c migration/hold.c kernel/lib/err.c $(XXH_PATH_SRCS)
# The record MACs on mbed TLS and the hypervisor's Poly1305, OpenSSL's assembly (mk/mbedtls.mk's host
# library and mk/openssl-poly.mk's object, the same sources and configuration as the hypervisor's);
# test_migr_poly runs on each of the assembly's paths this CPU has (tests/unit/poly_paths_asm.c).
UNIT_MAC_SRCS := migration/mac_mbedtls.c migration/mac_poly_openssl_asm.c migration/mac_gmac_openssl_asm.c \
	migration/mac_pick.c migration/mac.c
UNIT_TESTS += test_migr_mac test_migr_poly
UNIT_SRCS_test_migr_mac := $(UNIT_MAC_SRCS)
UNIT_SRCS_test_migr_poly := $(UNIT_MAC_SRCS) tests/unit/poly_paths_asm.c
UNIT_SRCS_test_migr_e2e += migration/mac_mbedtls.c migration/mac_poly_openssl_asm.c migration/mac_gmac_openssl_asm.c \
	migration/mac_pick.c
# AES-GMAC on each GHASH path (the Linux program's wide one from ipsec-mb too), against known tags and libcrypto's AES-GCM; the choice of the MAC proposed.
UNIT_TESTS += test_migr_gmac
UNIT_SRCS_test_migr_gmac := $(UNIT_MAC_SRCS) linerate/ghash_ipsecmb.c
$(BUILD)/unit/test_migr_gmac: UNIT_CHECK_LIBS += -lcrypto -lIPSec_MB
UNIT_MBEDTLS_OBJS := $(call unit_objs,$(UNIT_MAC_SRCS) tests/unit/test_migr_mac.c \
	tests/unit/test_migr_poly.c tests/unit/test_migr_e2e.c tests/unit/test_migr_gmac.c)
$(UNIT_MBEDTLS_OBJS): UNIT_CFLAGS += $(MBEDTLS_CPPFLAGS)
$(UNIT_MBEDTLS_OBJS): | $(MBEDTLS_STAMP)
$(BUILD)/unit/test_migr_mac $(BUILD)/unit/test_migr_poly $(BUILD)/unit/test_migr_e2e $(BUILD)/unit/test_migr_gmac: $(MBEDTLS_HOST_LIB) \
	$(OSSL_MAC_OBJS)
UNIT_TESTS += test_sim_model
SIM_THROTTLE_CTL ?= $(firstword $(wildcard kernel/core/throttle_ctl.c kernel/throttle_ctl.c))
UNIT_SRCS_test_sim_model := sim/custom.c sim/run.c sim/track.c sim/link.c sim/policies.c migration/policy.c $(SIM_THROTTLE_CTL)
# The line-rate benchmark's delay relay: its release times on a fake clock.
UNIT_TESTS += test_relay_delayq
UNIT_SRCS_test_relay_delayq := tools/relay/delayq.c
# ferry-migrate's ports and command line (linerate/), on the host as they run.
UNIT_TESTS += test_lr_opts test_lr_track
UNIT_SRCS_test_lr_opts := linerate/opts.c
UNIT_SRCS_test_lr_track := linerate/track.c linerate/guest.c linerate/vm.c kernel/lib/err.c
UNIT_TESTS += test_linux_boot
UNIT_SRCS_test_linux_boot := kernel/core/linux_boot.c kernel/lib/err.c
UNIT_TESTS += test_migr_hv_dev
UNIT_SRCS_test_migr_hv_dev := migration/hv_dev.c migration/codec.c migration/prof.c migration/mac.c kernel/vmm/vdev.c \
	kernel/vmm/vpic.c kernel/vmm/vpit.c kernel/vmm/vrtc.c kernel/vmm/vuart.c kernel/lib/err.c
UNIT_TESTS += test_vdev
UNIT_SRCS_test_vdev := kernel/vmm/vdev.c kernel/vmm/vpic.c kernel/vmm/vpit.c kernel/vmm/vrtc.c kernel/vmm/vuart.c

# FerryHV: a bare-metal VT-x micro-hypervisor for live migration.
#   make          the ISO (build/hv.iso): hypervisor, test guest, GRUB
#   make demo     two diskless hosts boot through PXE; the running test guest moves from one to the other
#                 (DEMO_HOSTS=1: one host with the test guest on 2 vCPUs, from the ISO; PXE=1: through PXE)
#   make linux-guest  the Linux guest: Debian's cloud kernel and an initramfs (build/linux/)
#   make demo-linux  two hosts from CDs: Debian's Linux boots on A with its file-checking shell loop and
#                 moves to B and back while the loop runs (DEMO_HOSTS=1: one host, Linux to its shell)
#   make netboot  the network boot tree (build/netboot/) for a TFTP server; HOSTS=dir of per-host files
#   make test     host unit tests, then system tests in the emulator
#   make bench    benchmarks (tables on the terminal, JSON under build/bench/)
#   make linerate  ferry-migrate, the migration stream as a Linux program (linerate/README.md)
#   make bench-linerate  the migration stream as a Linux program beside iperf3 and QEMU (part of bench)
#   make sim      the migration simulator: policies compared at production sizes (build/bench/sim.json, plots)
#   make fuzz     libFuzzer runs of the API's parsers (FUZZ_TIME seconds each)
#   make deps     installs the Debian packages everything needs (as root)

BUILD := build
KCC := gcc
# The prefix map keeps the checkout's path out of the objects: the same sources give the same bytes anywhere.
KCFLAGS_BASE := -std=c11 -ffreestanding -fno-pic -fno-pie -mno-red-zone -mcmodel=kernel \
	-fno-stack-protector -fno-asynchronous-unwind-tables -O2 -g -Wall -Wextra -Werror -ffile-prefix-map=$(CURDIR)=.

.DEFAULT_GOAL := all

include mk/newlib.mk
include mk/lwip.mk
include mk/mbedtls.mk
include mk/xxh.mk
include mk/openssl-poly.mk
include tests/guest/guest.mk
include mk/linux.mk

GCC_INC := $(shell $(KCC) -print-file-name=include)
LIBGCC := $(shell $(KCC) -print-libgcc-file-name)

# Hypervisor C code never touches SSE/x87: guest FPU state is only switched around VM entries. (The record
# MAC's OpenSSL assembly and the page hash's vector paths, mk/xxh.mk, use SSE and AVX registers between an
# exit and the next entry: kernel/arch/x86/xstate.h.)
# Our own code only (lwIP builds with KCFLAGS_BASE): prototypes everywhere, no undefined macro read as 0.
HV_WARNINGS := -Wmissing-prototypes -Wstrict-prototypes -Wmissing-declarations -Wundef -Wshadow
KCFLAGS := $(KCFLAGS_BASE) -mgeneral-regs-only $(HV_WARNINGS) \
	-nostdinc -isystem $(NEWLIB_INC) -isystem $(GCC_INC) -I. $(LWIP_INCLUDES) -MMD -MP
KASFLAGS := -I. -MMD -MP
# jsmn is header-only (Debian's libjsmn-dev); the kernel builds with -nostdinc, so it gets a copy of that header.
JSMN_DIR := $(BUILD)/include
KCFLAGS += -I$(JSMN_DIR)

# One folder per layer (README.md, "Layout").
KERNEL_DIRS := kernel kernel/core kernel/lib kernel/vmm kernel/selftest \
	kernel/arch/x86 kernel/arch/x86/boot kernel/arch/x86/vmx kernel/arch/x86/vmx/exits \
	drivers net net/api
KERNEL_C := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.c))
KERNEL_S := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.S))
# The migration stream (a top layer) with its libraries: mbed TLS's primitives, OpenSSL's
# Poly1305 assembly and xxHash's header; the unsound test MAC is for host tests only.
MIGR_C := $(filter-out migration/mac_test.c,$(wildcard migration/*.c))
KERNEL_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(KERNEL_S) $(KERNEL_C) $(MIGR_C))
HV_ELF := $(BUILD)/hv.elf
HV_ISO := $(BUILD)/hv.iso
# The kernel's command-line parser, built for the build machine: host files are checked before any host boots.
CMDLINE_CHECK := $(BUILD)/tools/cmdline-check
CMDLINE_CHECK_SRCS := tools/host/cmdline-check.c kernel/core/config.c kernel/lib/err.c kernel/lib/parse.c \
	kernel/lib/strbuf.c kernel/lib/uuid.c
DEMO_CMDLINE := vcpus=2 mem=32M guest.pattern=random run_for=8000
# make demo-linux: Debian's kernel to its shell, with the workload (docs/linux-guest.md)
LINUX_DEMO_ISO := $(BUILD)/hv-linux.iso
LINUX_DEMO_CMDLINE := mem=128M vcpus=1 run_for=60000
LINUX_DEMO_KERNEL := console=ttyS0 nokaslr lpj=50000 tsc=reliable hv.work=1000
# Its loop must outlast two migrations (an iteration is ~0.4 emulated s).
LINUX_MIGR_DEMO_KERNEL := console=ttyS0 nokaslr lpj=50000 tsc=reliable hv.work=100000

NETBOOT := $(BUILD)/netboot
HOSTS ?= netboot/hosts.example

.PHONY: all deps test unit-test system-test lint-openapi check-layout check-cycles demo demo-linux bench clean netboot sim

all: $(HV_ISO)

deps:
	@tools/install-deps.sh

$(BUILD)/obj/%.c.o: %.c $(NEWLIB_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(KCC) $(KCFLAGS) -c $< -o $@

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(KCC) $(KASFLAGS) -c $< -o $@

# net/ and the iperf harness include lwIP's headers, which exist once lwIP is fetched, and jsmn's.
$(patsubst %,$(BUILD)/obj/%.o,$(wildcard net/*.c net/api/*.c) kernel/selftest/perf.c): $(LWIP_STAMP) $(JSMN_DIR)/jsmn.h

$(JSMN_DIR)/jsmn.h: /usr/include/jsmn.h
	@mkdir -p $(@D)
	@cp $< $@

# xxHash is header-only too (Debian's libxxhash-dev): a copy beside jsmn's.
$(JSMN_DIR)/xxhash.h: /usr/include/xxhash.h
	@mkdir -p $(@D)
	@cp $< $@

$(patsubst %,$(BUILD)/obj/%.o,$(MIGR_C)): KCFLAGS += $(MBEDTLS_CPPFLAGS)
$(patsubst %,$(BUILD)/obj/%.o,$(MIGR_C)): $(LWIP_STAMP) $(MBEDTLS_STAMP) $(JSMN_DIR)/xxhash.h $(JSMN_DIR)/jsmn.h
$(call xxh_path_flags,$(BUILD)/obj/migration/xxh_%.c.o,KCFLAGS)
# Page copy and zero check with AVX-512F (kernel/arch/x86/pagevec.h): this file alone, chosen at boot.
$(BUILD)/obj/kernel/arch/x86/pagevec_avx512.c.o: KCFLAGS += -mavx512f
# The page hash: -O3 unrolls XXH3's eight lanes into registers (measured in Bochs on the scalar path: 1.8
# instructions per byte hashed at -O2, ~1.1 at -O3).
$(patsubst %,$(BUILD)/obj/%.o,$(XXH_PATH_SRCS)): KCFLAGS += -O3

# lwiperf's listener is tuned where it is made, and the link test's accept hooked, through lwIP's public API
# (kernel/selftest/perf.c).
HV_LDWRAP := --wrap=tcp_listen_with_backlog --wrap=tcp_accept

$(HV_ELF): $(KERNEL_OBJS) $(LWIP_LIB) $(MBEDTLS_LIB) $(OSSL_MAC_OBJS) linker/hv.ld $(NEWLIB_STAMP)
	@echo "  LD      $@"
	@ld -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker/hv.ld \
		$(HV_LDWRAP) -o $@ $(KERNEL_OBJS) $(LWIP_LIB) $(MBEDTLS_LIB) $(OSSL_MAC_OBJS) $(NEWLIB_LIB)/libc.a $(LIBGCC)

# The default ISO boots the demo configuration; tests make their own with tools/mkiso.sh.
$(HV_ISO): $(HV_ELF) $(GUEST_BIN) tools/mkiso.sh
	@echo "  ISO     $@"
	@tools/mkiso.sh $@ $(HV_ELF) $(GUEST_BIN) "$(DEMO_CMDLINE)"

include tests/unit/unit.mk
include linerate/linerate.mk
include tests/fuzz/fuzz.mk
include mk/linerate-bench.mk

system-test: $(HV_ELF) $(GUEST_BIN) $(CMDLINE_CHECK) $(LINERATE) $(LINUX_KERNEL) $(LINUX_INITRD)
	@/usr/bin/python3 -m pytest -q -rs tests/system

# Redocly's recommended-strict rules (redocly.yaml); tools/install-deps.sh installs the pinned linter.
OPENAPI_LINT := tools/openapi-lint/node_modules/.bin/redocly
lint-openapi:
	@$(OPENAPI_LINT) lint --format=summary docs/openapi.yaml

# Every #include against the rule of its folder, and no call cycle between files (README.md, "Layout").
check-layout:
	@tools/check-layout.sh

check-cycles: $(KERNEL_OBJS)
	@/usr/bin/python3 tools/check-cycles.py $(KERNEL_OBJS)

test: deps
	@$(MAKE) --no-print-directory check-layout
	@$(MAKE) --no-print-directory lint-openapi
	@$(MAKE) --no-print-directory unit-test
	@$(MAKE) --no-print-directory $(HV_ELF) $(GUEST_BIN) $(LWIP_LIB) $(MBEDTLS_LIB) $(OSSL_MAC_OBJS) $(CMDLINE_CHECK) $(LINERATE) linux-guest
	@$(MAKE) --no-print-directory check-cycles
	@$(MAKE) --no-print-directory system-test

bench: deps
	@$(MAKE) --no-print-directory $(HV_ELF) $(GUEST_BIN) $(MIGR_CRYPTO_BENCH) $(POLY1305_BENCH) linux-guest
	@/usr/bin/python3 tests/bench/bench_migr_crypto.py
	@/usr/bin/python3 tests/bench/bench_poly1305.py
	@/usr/bin/python3 tests/bench/bench_foundation.py
	@/usr/bin/python3 tests/bench/bench_dirty.py
	@/usr/bin/python3 tests/bench/bench_throttle.py
	@/usr/bin/python3 tests/bench/bench_net.py
	@/usr/bin/python3 tests/bench/bench_pxe.py
	@/usr/bin/python3 tests/bench/bench_api.py
	@/usr/bin/python3 tests/bench/bench_linux.py
	@/usr/bin/python3 tests/bench/bench_migration.py
	@$(MAKE) --no-print-directory bench-linerate

# The simulator links the sender's policy and the scheduler's dirty-limit controller unchanged.
SIM := $(BUILD)/sim/sim
SIM_THROTTLE_CTL ?= $(firstword $(wildcard kernel/core/throttle_ctl.c kernel/throttle_ctl.c))
SIM_SRCS = $(wildcard sim/*.c) migration/policy.c $(SIM_THROTTLE_CTL)
$(SIM): $(SIM_SRCS) $(wildcard sim/*.h) migration/policy.h migration/stream.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@gcc -std=c11 -O2 -Wall -Wextra -Werror -I. -o $@ $(SIM_SRCS) -lm
sim: deps $(SIM)
	@$(SIM) -t -o $(BUILD)/bench
	@tools/sim-plot.sh $(BUILD)/bench/sim
	@/usr/bin/python3 tools/sim-validate.py --sim $(SIM) --bench $(BUILD)/bench --systest $(BUILD)/systest

# The whole story by default: two hosts boot through PXE and the running guest moves from A to B.
# DEMO_HOSTS=1: one host and its guest, from the ISO (PXE=1: through PXE).
demo: deps
ifeq ($(DEMO_HOSTS),1)
ifeq ($(PXE),1)
	@$(MAKE) --no-print-directory $(HV_ELF) $(GUEST_BIN)
	@tools/demo.sh --pxe $(HV_ELF) $(GUEST_BIN) "$(DEMO_CMDLINE)"
else
	@$(MAKE) --no-print-directory $(HV_ISO)
	@tools/demo.sh $(HV_ISO)
endif
else
	@$(MAKE) --no-print-directory $(HV_ELF) $(GUEST_BIN) $(CMDLINE_CHECK)
	@CMDLINE_CHECK=$(CMDLINE_CHECK) tools/demo-migration.sh $(HV_ELF) $(GUEST_BIN)
endif

$(LINUX_DEMO_ISO): $(HV_ELF) $(LINUX_KERNEL) $(LINUX_INITRD) tools/mkiso.sh
	@echo "  ISO     $@"
	@tools/mkiso.sh $@ $(HV_ELF) $(LINUX_KERNEL) "$(LINUX_DEMO_CMDLINE)" "$(LINUX_DEMO_KERNEL)" $(LINUX_INITRD)

demo-linux: deps
ifeq ($(DEMO_HOSTS),1)
	@$(MAKE) --no-print-directory $(LINUX_DEMO_ISO)
	@BOCHS_MEGS=512 tools/demo.sh $(LINUX_DEMO_ISO)
else
	@$(MAKE) --no-print-directory $(HV_ELF) $(GUEST_BIN) linux-guest
	@tools/demo-migration.sh --linux $(HV_ELF) $(GUEST_BIN) $(LINUX_KERNEL) $(LINUX_INITRD) "$(LINUX_MIGR_DEMO_KERNEL)"
endif

$(CMDLINE_CHECK): $(CMDLINE_CHECK_SRCS) kernel/core/config.h kernel/lib/err.h kernel/lib/parse.h kernel/lib/strbuf.h \
		kernel/lib/uuid.h
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@gcc -std=c11 -O2 -Wall -Wextra -Werror -I. -o $@ $(filter %.c,$^)

# Rebuilt every time (it takes a fraction of a second): host files may change without make knowing.
netboot: $(HV_ELF) $(GUEST_BIN) $(CMDLINE_CHECK)
	@echo "  NETBOOT $(NETBOOT) (hosts from $(HOSTS))"
	@CMDLINE_CHECK=$(CMDLINE_CHECK) tools/mknetboot.sh $(NETBOOT) $(HV_ELF) $(GUEST_BIN) $(HOSTS)

clean:
	rm -rf $(BUILD)/obj $(BUILD)/linerate $(BUILD)/unit $(BUILD)/guest $(LINUX_INITRD) $(LINUX_DEMO_ISO) $(BUILD)/lwip-obj $(LWIP_LIB) $(HV_ELF) $(HV_ISO) $(BUILD)/systest \
		$(NETBOOT) $(CMDLINE_CHECK) $(BUILD)/mbedtls-obj $(MBEDTLS_LIB) $(MBEDTLS_HOST_LIB) $(RELAY) \
		$(BUILD)/openssl-poly \
		$(QEMU_FILL) $(QEMU_FILL:.elf=.o)

-include $(KERNEL_OBJS:.o=.d)

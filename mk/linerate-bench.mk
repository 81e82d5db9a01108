# The line-rate benchmark's harness (tests/bench/bench_linerate.py): the delay relay, the QEMU baseline's
# guest, and `make bench-linerate`. Included by the top Makefile.

RELAY := $(BUILD)/tools/relay
RELAY_SRCS := tools/relay/relay.c tools/relay/relay_conn.c tools/relay/line.c tools/relay/delayq.c
QEMU_FILL := $(BUILD)/bench/qemu-fill.elf
# The migration program the benchmark measures; built by its own rule where the tree has one.
LINERATE_PROG ?= $(BUILD)/linerate/ferry-migrate

$(RELAY): $(RELAY_SRCS) $(wildcard tools/relay/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@gcc -std=c11 -O2 -g -Wall -Wextra -Werror $(filter-out -Wmissing-declarations,$(HV_WARNINGS)) -I. -pthread \
		-o $@ $(RELAY_SRCS)

# A Multiboot 1 ELF32 that QEMU loads with -kernel: one segment at 1 MiB (-N), no program loader needed.
$(QEMU_FILL): tests/bench/qemu_fill.s
	@mkdir -p $(@D)
	@echo "  AS      $@"
	@as --32 -o $(@:.elf=.o) $<
	@ld -m elf_i386 -N --no-warn-rwx-segments -Ttext=0x100000 -e start -o $@ $(@:.elf=.o)

system-test: $(RELAY)

.PHONY: bench-linerate
bench-linerate: deps $(RELAY) $(QEMU_FILL)
	@if $(MAKE) -n --no-print-directory $(LINERATE_PROG) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(LINERATE_PROG); fi
	@LINERATE_PROG=$(LINERATE_PROG) /usr/bin/python3 tests/bench/bench_linerate.py

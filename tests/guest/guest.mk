# The test guest (docs/test-guest.md): a flat 32-bit image the hypervisor
# loads at HV_GUEST_LOAD_GPA. Included by the top Makefile, which defines
# BUILD; paths are relative to the repository root.
#
# Outputs: $(GUEST_ELF), $(GUEST_BIN). Host code that wants the page
# content functions can compile $(GUEST_PAGE_SRC) (pure C, 32- or 64-bit).

_guest_saved_goal := $(.DEFAULT_GOAL)

GUEST_DIR := tests/guest
GUEST_OUT := $(BUILD)/guest
GUEST_ELF := $(GUEST_OUT)/guest.elf
GUEST_BIN := $(GUEST_OUT)/guest.bin
GUEST_PAGE_SRC := $(GUEST_DIR)/page_content.c
GUEST_IMAGE_MAX := 1048576

GUEST_CC ?= gcc
GUEST_OBJCOPY ?= objcopy
GUEST_CFLAGS := -m32 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-mgeneral-regs-only -fno-asynchronous-unwind-tables -O2 -std=c11 \
	-Wall -Wextra -Werror -I. -MMD -MP
# No -lgcc: there is no 32-bit libgcc here, and the guest must not need one
# (64-bit division goes through udiv64); a stray __udivdi3 fails the link.
GUEST_LDFLAGS := -m32 -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,--no-warn-rwx-segments -T $(GUEST_DIR)/guest.ld

GUEST_SRCS := $(wildcard $(GUEST_DIR)/*.S $(GUEST_DIR)/*.c)
GUEST_OBJS := $(patsubst $(GUEST_DIR)/%,$(GUEST_OUT)/%.o,$(GUEST_SRCS))

$(GUEST_OUT)/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(@D)
	@echo "  CC32    $<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/%.S.o: $(GUEST_DIR)/%.S
	@mkdir -p $(@D)
	@echo "  AS32    $<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_ELF): $(GUEST_OBJS) $(GUEST_DIR)/guest.ld
	@echo "  LD32    $@"
	@$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS)

$(GUEST_BIN): $(GUEST_ELF)
	@$(GUEST_OBJCOPY) -O binary $< $@
	@size=$$(wc -c < $@); if [ $$size -gt $(GUEST_IMAGE_MAX) ]; then \
		echo "$@: $$size bytes, more than $(GUEST_IMAGE_MAX)" >&2; rm -f $@; exit 1; fi

.PHONY: guest
guest: $(GUEST_BIN)

-include $(GUEST_OBJS:.o=.d)

# Don't let this fragment's rules become the includer's default goal.
.DEFAULT_GOAL := $(_guest_saved_goal)

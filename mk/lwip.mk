# lwIP 2.1.3 (raw API, NO_SYS=1, IPv4) as a static library for the kernel.
# Source: Debian's lwip source package, fetched and unpacked unmodified by
# tools/fetch-lwip.sh; our port (lwipopts.h, arch/cc.h) lives in net/.
#
# Needs from the including Makefile (defined before the include): BUILD, KCC,
# KCFLAGS_BASE; and mk/newlib.mk included first (NEWLIB_STAMP, NEWLIB_INC).
# Provides:
#   LWIP_DIR   unpacked lwIP tree ($(LWIP_DIR)/src/include is its API)
#   LWIP_LIB   $(BUILD)/liblwip.a
#   LWIP_INCLUDES  the include flags lwIP (and kernel code using it) needs
#                  besides the newlib/gcc system dirs: -Inet -I$(LWIP_DIR)/src/include
#   LWIP_STAMP the fetch stamp (depend on it from kernel objects that
#              include lwIP headers)

LWIP_SRC_DIR := $(BUILD)/lwip-src
LWIP_DIR     := $(LWIP_SRC_DIR)/lwip
LWIP_STAMP   := $(LWIP_SRC_DIR)/stamp
LWIP_LIB     := $(BUILD)/liblwip.a
LWIP_OBJDIR  := $(BUILD)/lwip-obj

# Fixed file list: the tree does not exist yet when make parses this on a
# cold build, so it cannot be globbed. It is all of src/core/*.c and
# src/core/ipv4/*.c of lwIP 2.1.3, plus the Ethernet layer and lwiperf.
# The fetch rule below checks that every listed file exists.
LWIP_SRCS := \
	core/altcp.c core/altcp_alloc.c core/altcp_tcp.c core/def.c core/dns.c \
	core/inet_chksum.c core/init.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c core/tcp.c \
	core/tcp_in.c core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/autoip.c core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c \
	core/ipv4/igmp.c core/ipv4/ip4.c core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c \
	netif/ethernet.c \
	apps/lwiperf/lwiperf.c

LWIP_OBJS := $(addprefix $(LWIP_OBJDIR)/,$(LWIP_SRCS:.c=.o))

LWIP_INCLUDES := -Inet -I$(LWIP_DIR)/src/include

# The port headers every lwIP object depends on (besides -MMD's tracking).
LWIP_PORT_HDRS := net/lwipopts.h net/arch/cc.h

LWIP_GCC_INC := $(shell $(KCC) -print-file-name=include)

# lwIP 2.1.3 builds warning-free with KCFLAGS_BASE (-Wall -Wextra -Werror)
# and -mgeneral-regs-only, so nothing is silenced. Extra flags for lwIP
# objects only would go here.
LWIP_EXTRA_CFLAGS :=

LWIP_CFLAGS = $(KCFLAGS_BASE) -mgeneral-regs-only $(LWIP_EXTRA_CFLAGS) \
	-nostdinc -isystem $(NEWLIB_INC) -isystem $(LWIP_GCC_INC) \
	$(LWIP_INCLUDES)

# Keep whatever default goal the including Makefile has (or will define).
_lwip_mk_saved_goal := $(.DEFAULT_GOAL)

$(LWIP_STAMP): tools/fetch-lwip.sh
	@tools/fetch-lwip.sh $(LWIP_SRC_DIR)
	@for f in $(LWIP_SRCS); do \
	  test -f $(LWIP_DIR)/src/$$f || { echo "lwip.mk: $(LWIP_DIR)/src/$$f missing (LWIP_SRCS out of date?)" >&2; rm -f $@; exit 1; }; \
	done

# Sources appear when the stamp is made. Order-only, so their old (2021)
# mtimes never make them look out of date; the empty recipe stops make from
# looking for another way to create them. Objects depend on the stamp itself.
$(addprefix $(LWIP_DIR)/src/,$(LWIP_SRCS)): | $(LWIP_STAMP) ;

$(LWIP_OBJS): $(LWIP_OBJDIR)/%.o: $(LWIP_DIR)/src/%.c $(LWIP_STAMP) $(NEWLIB_STAMP) $(LWIP_PORT_HDRS)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(KCC) $(LWIP_CFLAGS) -MMD -MP -c $< -o $@

$(LWIP_LIB): $(LWIP_OBJS)
	@echo "  AR      $@"
	@rm -f $@
	@ar rcs $@ $(LWIP_OBJS)

-include $(LWIP_OBJS:.o=.d)

.DEFAULT_GOAL := $(_lwip_mk_saved_goal)

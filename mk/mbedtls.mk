# mbed TLS 2.28.3's crypto primitives for the migration stream, built twice
# from the same sources and the same configuration (migration/mbedtls_config.h):
#   MBEDTLS_LIB       $(BUILD)/libmbedcrypto-hv.a   freestanding, the kernel's flags
#   MBEDTLS_HOST_LIB  $(BUILD)/host/libmbedcrypto.a for host tests, benchmarks and Linux tools
# Source: Debian's mbedtls source package, fetched and unpacked unmodified by
# tools/fetch-deb-source.sh.
#
# Needs from the including Makefile (defined before the include): BUILD, KCC,
# KCFLAGS_BASE; mk/newlib.mk included first (NEWLIB_STAMP, NEWLIB_INC).
# Provides as well:
#   MBEDTLS_CPPFLAGS  what code calling mbed TLS compiles with (config file, include dir)
#   MBEDTLS_STAMP     the fetch stamp (depend on it from objects including mbed TLS headers)

MBEDTLS_SRC_DIR := $(BUILD)/mbedtls-src
MBEDTLS_DIR     := $(MBEDTLS_SRC_DIR)/mbedtls
MBEDTLS_STAMP   := $(MBEDTLS_SRC_DIR)/stamp
MBEDTLS_LIB     := $(BUILD)/libmbedcrypto-hv.a
MBEDTLS_HOST_LIB := $(BUILD)/host/libmbedcrypto.a
MBEDTLS_CONFIG  := migration/mbedtls_config.h

# The modules the stream uses. md.c is host-only: its HMAC allocates its
# contexts with calloc() and the hypervisor has no heap (mac_mbedtls.c builds
# HMAC on the SHA-256 context instead; host tests cross-check the two).
MBEDTLS_SRCS      := sha256.c chacha20.c poly1305.c chachapoly.c aes.c platform_util.c
MBEDTLS_HOST_SRCS := $(MBEDTLS_SRCS) md.c

MBEDTLS_CPPFLAGS := -DMBEDTLS_CONFIG_FILE='"$(MBEDTLS_CONFIG)"' -I. -I$(MBEDTLS_DIR)/include

MBEDTLS_GCC_INC := $(shell $(KCC) -print-file-name=include)
MBEDTLS_KCFLAGS = $(KCFLAGS_BASE) -mgeneral-regs-only -nostdinc -isystem $(NEWLIB_INC) \
	-isystem $(MBEDTLS_GCC_INC) $(MBEDTLS_CPPFLAGS)
MBEDTLS_HOSTCFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror $(MBEDTLS_CPPFLAGS)

MBEDTLS_OBJS      := $(addprefix $(BUILD)/mbedtls-obj/hv/,$(MBEDTLS_SRCS:.c=.o))
MBEDTLS_HOST_OBJS := $(addprefix $(BUILD)/mbedtls-obj/host/,$(MBEDTLS_HOST_SRCS:.c=.o))

_mbedtls_mk_saved_goal := $(.DEFAULT_GOAL)

$(MBEDTLS_STAMP): tools/fetch-deb-source.sh
	@tools/fetch-deb-source.sh mbedtls 2.28.3 library/poly1305.c $(MBEDTLS_SRC_DIR)

# The sources appear with the stamp (order-only: their 2023 mtimes must not
# look stale; the empty recipe stops make from searching for another rule).
$(addprefix $(MBEDTLS_DIR)/library/,$(MBEDTLS_HOST_SRCS)): | $(MBEDTLS_STAMP) ;

$(MBEDTLS_OBJS): $(BUILD)/mbedtls-obj/hv/%.o: $(MBEDTLS_DIR)/library/%.c $(MBEDTLS_STAMP) $(NEWLIB_STAMP) $(MBEDTLS_CONFIG)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(KCC) $(MBEDTLS_KCFLAGS) -MMD -MP -c $< -o $@

$(MBEDTLS_HOST_OBJS): $(BUILD)/mbedtls-obj/host/%.o: $(MBEDTLS_DIR)/library/%.c $(MBEDTLS_STAMP) $(MBEDTLS_CONFIG)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@gcc $(MBEDTLS_HOSTCFLAGS) -MMD -MP -c $< -o $@

$(MBEDTLS_LIB): $(MBEDTLS_OBJS)
	@echo "  AR      $@"
	@rm -f $@
	@ar rcs $@ $^

$(MBEDTLS_HOST_LIB): $(MBEDTLS_HOST_OBJS)
	@mkdir -p $(@D)
	@echo "  AR      $@"
	@rm -f $@
	@ar rcs $@ $^

-include $(MBEDTLS_OBJS:.o=.d) $(MBEDTLS_HOST_OBJS:.o=.d)

.DEFAULT_GOAL := $(_mbedtls_mk_saved_goal)

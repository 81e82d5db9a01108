# libsodium 1.0.18's Poly1305 for the hypervisor's record MAC: its portable
# "donna" C code with 64x64->128-bit multiplies (general registers only),
# built twice from the same sources and the same definitions:
#   SODIUM_LIB       $(BUILD)/libsodium-poly-hv.a   freestanding, the kernel's flags
#   SODIUM_HOST_LIB  $(BUILD)/host/libsodium-poly.a for host tests and benchmarks
# Source: Debian's libsodium source package, fetched and unpacked unmodified
# by tools/fetch-deb-source.sh. Only two files are built: the Poly1305 code
# and crypto_verify_16 (which its verify function names); the rest of
# libsodium (its allocator, its CPU dispatch) stays out. The one function
# the donna code takes from elsewhere, sodium_memzero, is given by
# migration/mac_poly_sodium.c.
#
# Needs from the including Makefile: BUILD, KCC, KCFLAGS_BASE; mk/newlib.mk and
# mk/mbedtls.mk included first (NEWLIB_STAMP, NEWLIB_INC, MBEDTLS_GCC_INC).
# Provides as well:
#   SODIUM_CPPFLAGS  what code calling this Poly1305 compiles with
#   SODIUM_STAMP     the fetch stamp

SODIUM_SRC_DIR := $(BUILD)/sodium-src
SODIUM_DIR     := $(SODIUM_SRC_DIR)/libsodium
SODIUM_STAMP   := $(SODIUM_SRC_DIR)/stamp
SODIUM_LIB     := $(BUILD)/libsodium-poly-hv.a
SODIUM_HOST_LIB := $(BUILD)/host/libsodium-poly.a

SODIUM_SRCS := crypto_onetimeauth/poly1305/donna/poly1305_donna.c crypto_verify/sodium/verify.c
# The 64-bit donna variant (unsigned __int128), as libsodium's configure finds on
# x86-64. Not NATIVE_LITTLE_ENDIAN: with it the code loads words with memcpy,
# which -ffreestanding (no builtins) turns into two calls to newlib's memcpy
# per 16-byte block (measured: 7.6 instead of 5.3 instructions per byte); its
# portable byte loads compile to one 64-bit load each.
# Our code names its headers "sodium/..." and "poly1305/donna/..."; libsodium's own
# includes need include/sodium on the path too.
SODIUM_CPPFLAGS := -DCONFIGURED=1 -DHAVE_TI_MODE -I$(SODIUM_DIR)/src/libsodium/include \
	-I$(SODIUM_DIR)/src/libsodium/include/sodium -I$(SODIUM_DIR)/src/libsodium/crypto_onetimeauth

SODIUM_KCFLAGS = $(KCFLAGS_BASE) -mgeneral-regs-only -nostdinc -isystem $(NEWLIB_INC) \
	-isystem $(MBEDTLS_GCC_INC) $(SODIUM_CPPFLAGS)
# The host build compiles as the hypervisor does where code generation is concerned (freestanding,
# general registers), so that the host benchmark counts the instructions the hypervisor runs.
SODIUM_HOSTCFLAGS = -std=c11 -O2 -g -ffreestanding -mgeneral-regs-only -Wall -Wextra -Werror $(SODIUM_CPPFLAGS)

SODIUM_OBJS      := $(addprefix $(BUILD)/sodium-obj/hv/,$(SODIUM_SRCS:.c=.o))
SODIUM_HOST_OBJS := $(addprefix $(BUILD)/sodium-obj/host/,$(SODIUM_SRCS:.c=.o))

_sodium_mk_saved_goal := $(.DEFAULT_GOAL)

$(SODIUM_STAMP): tools/fetch-deb-source.sh
	@tools/fetch-deb-source.sh libsodium 1.0.18 src/libsodium/crypto_onetimeauth/poly1305/donna/poly1305_donna.c \
		$(SODIUM_SRC_DIR)

$(addprefix $(SODIUM_DIR)/src/libsodium/,$(SODIUM_SRCS)): | $(SODIUM_STAMP) ;

$(SODIUM_OBJS): $(BUILD)/sodium-obj/hv/%.o: $(SODIUM_DIR)/src/libsodium/%.c $(SODIUM_STAMP) $(NEWLIB_STAMP) mk/sodium.mk
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(KCC) $(SODIUM_KCFLAGS) -MMD -MP -c $< -o $@

$(SODIUM_HOST_OBJS): $(BUILD)/sodium-obj/host/%.o: $(SODIUM_DIR)/src/libsodium/%.c $(SODIUM_STAMP) mk/sodium.mk
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@gcc $(SODIUM_HOSTCFLAGS) -MMD -MP -c $< -o $@

$(SODIUM_LIB): $(SODIUM_OBJS)
	@echo "  AR      $@"
	@rm -f $@
	@ar rcs $@ $^

$(SODIUM_HOST_LIB): $(SODIUM_HOST_OBJS)
	@mkdir -p $(@D)
	@echo "  AR      $@"
	@rm -f $@
	@ar rcs $@ $^

-include $(SODIUM_OBJS:.o=.d) $(SODIUM_HOST_OBJS:.o=.d)

.DEFAULT_GOAL := $(_sodium_mk_saved_goal)

# Poly1305 of every library a build could use, on the host (tests/bench/bench_poly1305.py runs it).
POLY1305_BENCH := $(BUILD)/bench/poly1305-bench
$(POLY1305_BENCH): tests/bench/poly1305.c $(SODIUM_HOST_LIB) $(MBEDTLS_HOST_LIB)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@gcc $(MBEDTLS_HOSTCFLAGS) $(SODIUM_CPPFLAGS) -o $@ $< $(SODIUM_HOST_LIB) $(MBEDTLS_HOST_LIB) -lsodium -lcrypto

# The host benchmark of the stream's per-page crypto (tests/bench/bench_migr_crypto.py runs it).
MIGR_CRYPTO_BENCH := $(BUILD)/bench/migr-crypto-bench
# The record MAC as the hypervisor has it, with libsodium's Poly1305.
$(MIGR_CRYPTO_BENCH): tests/bench/migr_crypto.c migration/mac_mbedtls.c migration/mac_poly_sodium.c migration/mac.c \
		$(wildcard migration/*.h) $(MBEDTLS_HOST_LIB) $(SODIUM_HOST_LIB)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@gcc $(MBEDTLS_HOSTCFLAGS) $(SODIUM_CPPFLAGS) -o $@ $(filter %.c,$^) $(MBEDTLS_HOST_LIB) $(SODIUM_HOST_LIB)

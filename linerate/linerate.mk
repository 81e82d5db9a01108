# ferry-migrate: migration/'s stream core built unchanged for Linux, with the
# ports of linerate/ (sockets, a buffer with writer threads, dirty tracking
# by userfaultfd and PAGEMAP_SCAN, Poly1305 from OpenSSL's libcrypto), mbed
# TLS's host library and xxHash.
# Included by the top Makefile (paths relative to the repository root).
#   make linerate   builds $(LINERATE)

LINERATE := $(BUILD)/linerate/ferry-migrate
# The stream's core: every migration/ source but the hypervisor's ports, its Poly1305 (linerate/ has its
# own) and the host tests' stand-in MAC.
LR_MIGR_C := $(filter-out migration/hv_% migration/transport_lwip.c migration/mac_poly_openssl_asm.c migration/mac_test.c,\
	$(wildcard migration/*.c))
LR_C := $(wildcard linerate/*.c) $(LR_MIGR_C) kernel/lib/err.c
LR_OBJS := $(patsubst %.c,$(BUILD)/linerate/obj/%.o,$(LR_C))
# XXH3's vector paths where the building CPU has them (the hypervisor stays scalar: migration/xxh.h);
# SSE2 is in every x86-64. The hashes are the same either way, only their cost differs.
LR_XXH_FLAGS := $(if $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo y),-mavx2 -DXXH_VECTOR=XXH_AVX2,\
	-DXXH_VECTOR=XXH_SSE2)
LR_CFLAGS := -std=c11 -O2 -g -pthread -Wall -Wextra -Werror $(HV_WARNINGS) -I. $(MBEDTLS_CPPFLAGS) $(LR_XXH_FLAGS) \
	-ffile-prefix-map=$(CURDIR)=. -MMD -MP

$(BUILD)/linerate/obj/%.o: %.c linerate/linerate.mk | $(MBEDTLS_STAMP)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	@gcc $(LR_CFLAGS) -c $< -o $@

$(LINERATE): $(LR_OBJS) $(MBEDTLS_HOST_LIB)
	@echo "  LD      $@"
	@gcc -pthread -o $@ $(LR_OBJS) $(MBEDTLS_HOST_LIB) -lcrypto

.PHONY: linerate
linerate: $(LINERATE)

-include $(LR_OBJS:.o=.d)

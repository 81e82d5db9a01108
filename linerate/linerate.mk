# ferry-migrate: migration/'s stream core built unchanged for Linux, with the
# ports of linerate/ (sockets, a buffer with writer threads, dirty tracking
# by userfaultfd and PAGEMAP_SCAN), mbed TLS's host library, the record MAC's
# Poly1305 assembly (mk/openssl-poly.mk) and xxHash, as the hypervisor links them, and Intel's ipsec-mb
# for a GHASH on 512-bit registers (linerate/ghash_ipsecmb.c).
# Included by the top Makefile (paths relative to the repository root).
#   make linerate   builds $(LINERATE)

LINERATE := $(BUILD)/linerate/ferry-migrate
# The stream's core: every migration/ source but the hypervisor's ports and the host tests' stand-in MAC.
LR_MIGR_C := $(filter-out migration/hv_% migration/transport_lwip.c migration/mac_test.c,\
	$(wildcard migration/*.c))
LR_C := $(wildcard linerate/*.c) $(LR_MIGR_C) kernel/lib/err.c
LR_OBJS := $(patsubst %.c,$(BUILD)/linerate/obj/%.o,$(LR_C))
LR_CFLAGS := -std=c11 -O2 -g -pthread -Wall -Wextra -Werror $(HV_WARNINGS) -I. $(MBEDTLS_CPPFLAGS) \
	-ffile-prefix-map=$(CURDIR)=. -MMD -MP

# The page hash's paths, each with its instruction set (mk/xxh.mk); the program picks one at start-up.
$(call xxh_path_flags,$(BUILD)/linerate/obj/migration/xxh_%.o,LR_CFLAGS)

$(BUILD)/linerate/obj/%.o: %.c linerate/linerate.mk | $(MBEDTLS_STAMP)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	@gcc $(LR_CFLAGS) -c $< -o $@

$(LINERATE): $(LR_OBJS) $(OSSL_MAC_OBJS) $(MBEDTLS_HOST_LIB)
	@echo "  LD      $@"
	@gcc -pthread -o $@ $(LR_OBJS) $(OSSL_MAC_OBJS) $(MBEDTLS_HOST_LIB) -lIPSec_MB

.PHONY: linerate
linerate: $(LINERATE)

-include $(LR_OBJS:.o=.d)

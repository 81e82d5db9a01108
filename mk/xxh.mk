# The page hash's code paths (migration/xxh.h): each of these files is built with its own instruction set,
# added after its build's flags (in the hypervisor, after -mgeneral-regs-only, which they override).
XXH_PATH_SRCS := migration/xxh.c migration/xxh_sse2.c migration/xxh_avx2.c migration/xxh_avx512.c
XXH_FLAGS_sse2 := -msse2
XXH_FLAGS_avx2 := -mavx2
XXH_FLAGS_avx512 := -mavx512f
# $(call xxh_path_flags,OBJECT,VARIABLE): OBJECT names a path's object with % for its name (sse2, avx2,
# avx512); VARIABLE is the flags variable its build's rule reads.
xxh_path_flags = $(foreach p,sse2 avx2 avx512,$(eval $(subst %,$(p),$(1)): $(2) += $(XXH_FLAGS_$(p))))

# The page hash as objects for host programs built in one command (benchmarks): $(XXH_HOST_OBJS).
XXH_HOST_OBJS := $(patsubst %.c,$(BUILD)/host/obj/%.o,$(XXH_PATH_SRCS))
$(call xxh_path_flags,$(BUILD)/host/obj/migration/xxh_%.o,XXH_HOST_CFLAGS)
$(BUILD)/host/obj/migration/%.o: migration/%.c $(wildcard migration/*.h) mk/xxh.mk
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	@gcc -std=c11 -O3 -g -Wall -Wextra -Werror -I. $(XXH_HOST_CFLAGS) -c $< -o $@

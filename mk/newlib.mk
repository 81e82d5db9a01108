# newlib 3.3.0 for the freestanding kernel target (C library headers, libc.a,
# libm.a), built from Debian's newlib-source by tools/build-newlib.sh.
#
# Needs from the including Makefile (defined before the include): BUILD.
# Provides:
#   NEWLIB_DIR    build/output dir of the newlib build
#   NEWLIB_STAMP  file target: exists (and is newer than the script) once
#                 newlib is built; depend on it from anything that uses
#                 newlib headers or libraries
#   NEWLIB_INC    headers (use as: -nostdinc -isystem $(NEWLIB_INC)
#                 -isystem $(shell $(KCC) -print-file-name=include))
#   NEWLIB_LIB    directory holding libc.a and libm.a
#
# Note: newlib is compiled with the recipe's flags (no -mgeneral-regs-only),
# so some of its routines (printf's floating point, libm, possibly string
# functions) use SSE registers.

NEWLIB_DIR   := $(BUILD)/newlib
NEWLIB_STAMP := $(NEWLIB_DIR)/stamp
NEWLIB_INC   := $(NEWLIB_DIR)/install/x86_64-elf/include
NEWLIB_LIB   := $(NEWLIB_DIR)/install/x86_64-elf/lib

# Keep whatever default goal the including Makefile has (or will define).
_newlib_mk_saved_goal := $(.DEFAULT_GOAL)

# The script keys the build on sha256(tarball) + flags and skips (just
# refreshing the stamp's mtime) when nothing relevant changed; editing the
# script or an updated tarball makes make ask it again.
$(NEWLIB_STAMP): tools/build-newlib.sh $(wildcard /usr/src/newlib/newlib-3.3.0.tar.xz)
	@tools/build-newlib.sh $(NEWLIB_DIR)

.DEFAULT_GOAL := $(_newlib_mk_saved_goal)

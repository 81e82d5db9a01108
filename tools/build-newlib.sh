#!/usr/bin/env bash
# Builds newlib 3.3.0 (C library + libm) for the freestanding x86_64 kernel
# target from Debian's newlib-source package.
#
#   tools/build-newlib.sh OUTDIR
#
# Layout produced:
#   OUTDIR/src       unpacked newlib tree
#   OUTDIR/build     out-of-tree build directory
#   OUTDIR/install   install prefix; headers in install/x86_64-elf/include,
#                    libc.a / libm.a in install/x86_64-elf/lib
#   OUTDIR/build.log full configure/make output
#   OUTDIR/stamp     key (sha256 of tarball + flags + compiler); when it matches
#                    and the libraries exist, the build is skipped.
#
# Quiet: one line on success, the log tail and a nonzero exit on failure.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

TARBALL=${NEWLIB_TARBALL:-/usr/src/newlib/newlib-3.3.0.tar.xz}
if [ ! -f "$TARBALL" ]; then
  echo "build-newlib: $TARBALL not found (install Debian package newlib-source: tools/install-deps.sh)" >&2
  exit 1
fi

mkdir -p "$1"
OUT=$(cd "$1" && pwd)
SRC=$OUT/src
BLD=$OUT/build
INST=$OUT/install
LOG=$OUT/build.log
STAMP=$OUT/stamp

# Serialize concurrent invocations (e.g. two make runs, or make -j reaching
# this rule twice): the second one waits, then finds the stamp and skips.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT/.lock"
  flock 9
fi

GCC_INC=$(gcc -print-file-name=include)
# The prefix maps keep the checkout's path out of the library (assert messages name their source file):
# the same sources give the same hypervisor bytes wherever they are built.
TARGET_CFLAGS="-O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone -mcmodel=kernel -fno-stack-protector -fno-asynchronous-unwind-tables -Wa,--noexecstack -nostdinc -isystem $GCC_INC -ffile-prefix-map=$SRC=newlib -ffile-prefix-map=$BLD=newlib"
CONFIGURE_ARGS=(
  --target=x86_64-elf
  --prefix="$INST"
  --disable-multilib
  --disable-nls
  --disable-newlib-supplied-syscalls
  --disable-newlib-multithread
  --enable-newlib-io-long-long
  --enable-newlib-io-c99-formats
)

# The key covers everything that changes the produced libraries: the source
# tarball, the target flags, the configure options and the compiler.
KEY=$( {
  sha256sum "$TARBALL" | cut -d' ' -f1
  echo "CFLAGS_FOR_TARGET=$TARGET_CFLAGS"
  echo "configure ${CONFIGURE_ARGS[*]}"
  gcc --version | head -n1
  ar --version | head -n1
} | sha256sum | cut -d' ' -f1 )

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] &&
   [ -f "$INST/x86_64-elf/lib/libc.a" ] && [ -f "$INST/x86_64-elf/lib/libm.a" ] &&
   [ -f "$INST/x86_64-elf/include/stdio.h" ]; then
  # Up to date. Refresh the stamp's mtime so make (whose rule also depends on
  # this script) stops asking again.
  touch "$STAMP"
  echo "newlib: up to date ($INST)"
  exit 0
fi

rm -f "$STAMP"
rm -rf "$SRC" "$BLD" "$INST"
mkdir -p "$SRC" "$BLD"
: > "$LOG"

fail() {
  echo "build-newlib: FAILED ($1); last lines of $LOG:" >&2
  tail -n 40 "$LOG" >&2
  exit 1
}

# Do not let an enclosing make's flags/command-line variables (MAKEFLAGS) or
# the caller's compiler flags leak into newlib's own build system.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS
unset CFLAGS CPPFLAGS CXXFLAGS LDFLAGS LIBS CC CXX CPP

JOBS=${NEWLIB_JOBS:-$(nproc 2>/dev/null || echo 2)}
start=$(date +%s)

tar -xJf "$TARBALL" -C "$SRC" --strip-components=1 >>"$LOG" 2>&1 || fail "unpack"

( cd "$BLD" && "$SRC/configure" "${CONFIGURE_ARGS[@]}" \
    CC_FOR_TARGET=gcc AR_FOR_TARGET=ar AS_FOR_TARGET=as LD_FOR_TARGET=ld \
    NM_FOR_TARGET=nm RANLIB_FOR_TARGET=ranlib \
    CFLAGS_FOR_TARGET="$TARGET_CFLAGS" ) >>"$LOG" 2>&1 || fail "configure"

make -C "$BLD" -j"$JOBS" all-target-newlib >>"$LOG" 2>&1 || fail "make all-target-newlib"
make -C "$BLD" install-target-newlib >>"$LOG" 2>&1 || fail "make install-target-newlib"

for f in lib/libc.a lib/libm.a include/stdio.h; do
  [ -f "$INST/x86_64-elf/$f" ] || fail "missing $INST/x86_64-elf/$f after install"
done

echo "$KEY" > "$STAMP"
echo "newlib: built in $(( $(date +%s) - start ))s -> $INST"

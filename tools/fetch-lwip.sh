#!/usr/bin/env bash
# Fetches lwIP 2.1.3 from Debian's source package and leaves the unpacked,
# unmodified upstream tree at OUTDIR/lwip (OUTDIR/lwip/src/core/... etc.).
#
#   tools/fetch-lwip.sh OUTDIR
#
# Uses `apt-get source --download-only lwip` (needs the deb-src entry that
# tools/install-deps.sh adds) and `dpkg-source --skip-patches -x`, so the tree
# is lwIP 2.1.3 as released upstream (Debian's +dfsg1 repack only drops the
# generated doxygen HTML); Debian's own patches are not applied. Nothing in
# the tree is ever edited: our port lives in net/.
#
# Idempotent: skips (silently) when OUTDIR/stamp says the tree is already there.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

WANT_UPSTREAM=2.1.3
KEY="lwip $WANT_UPSTREAM debian-source skip-patches"

mkdir -p "$1"
OUT=$(cd "$1" && pwd)
STAMP=$OUT/stamp
DEST=$OUT/lwip

# Serialize concurrent invocations (e.g. two make runs, or make -j reaching
# this rule twice): the second one waits, then finds the stamp and skips.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT/.lock"
  flock 9
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] &&
   [ -f "$DEST/src/core/tcp.c" ] && [ -f "$DEST/src/include/lwip/opt.h" ]; then
  # Already there. Refresh the stamp's mtime so make (whose rule depends on
  # this script) stops asking again.
  touch "$STAMP"
  exit 0
fi

for tool in apt-get dpkg-source; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "fetch-lwip: $tool not found (install apt / dpkg-dev: tools/install-deps.sh)" >&2
    exit 1
  }
done

rm -f "$STAMP"
rm -rf "$DEST"
TMP=$(mktemp -d "$OUT/.fetch.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
LOG=$TMP/log

# When run as root apt downloads as the unprivileged _apt user; let it write
# into the temp dir so it does not warn about an unsandboxed download.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
  chown _apt "$TMP" 2>/dev/null || true
fi

download() {
  (cd "$TMP" && apt-get source --download-only -q lwip) >>"$LOG" 2>&1
}

if ! download; then
  # A fresh machine may not have the deb-src index yet; refresh it once if we can.
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -q >>"$LOG" 2>&1 || true
    download || { echo "fetch-lwip: apt-get source lwip failed:" >&2; tail -n 20 "$LOG" >&2; exit 1; }
  else
    echo "fetch-lwip: apt-get source lwip failed (is deb-src enabled and 'apt-get update' run? see tools/install-deps.sh):" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
fi

shopt -s nullglob
dscs=("$TMP"/lwip_*.dsc)
if [ "${#dscs[@]}" -ne 1 ]; then
  echo "fetch-lwip: expected one lwip_*.dsc, got ${#dscs[@]}" >&2
  tail -n 20 "$LOG" >&2
  exit 1
fi
DSC=${dscs[0]}
VERSION=$(sed -n 's/^Version: *//p' "$DSC" | head -n1)
UPSTREAM=${VERSION#*:}
UPSTREAM=${UPSTREAM%%-*}
UPSTREAM=${UPSTREAM%%+*}
if [ "$UPSTREAM" != "$WANT_UPSTREAM" ]; then
  echo "fetch-lwip: Debian offers lwip $VERSION, this build expects upstream $WANT_UPSTREAM" >&2
  exit 1
fi

(cd "$TMP" && dpkg-source --skip-patches -x "$DSC" tree) >>"$LOG" 2>&1 || {
  echo "fetch-lwip: dpkg-source -x failed:" >&2
  tail -n 20 "$LOG" >&2
  exit 1
}
[ -f "$TMP/tree/src/core/tcp.c" ] || { echo "fetch-lwip: unexpected tree layout" >&2; exit 1; }

mv "$TMP/tree" "$DEST"
echo "$KEY" > "$STAMP"
echo "lwip: fetched $VERSION (upstream tree, Debian patches not applied) -> $DEST"

#!/usr/bin/env bash
# Fetches a Debian source package at the upstream release a build is written
# for and leaves the unpacked upstream tree, unmodified, at OUTDIR/PKG.
#
#   tools/fetch-deb-source.sh PKG UPSTREAM MARKER OUTDIR
#
# UPSTREAM is the release, or a shell pattern of releases ('3.0.*': a
# library whose security updates Debian ships as new upstream releases).
# MARKER is a file the tree must contain (relative to it), checked after the
# unpack and on every later call. mk/mbedtls.mk and mk/openssl-poly.mk use it.
# `apt-get source --download-only` needs the deb-src entry that
# tools/install-deps.sh adds; `dpkg-source --skip-patches -x` unpacks the
# upstream release without Debian's patches. The tree is never edited: each
# library's configuration and build live in mk/ and migration/. Idempotent
# (a stamp names what is there) and serialized with flock, so two make runs
# reaching this rule at once fetch once.
set -euo pipefail

[ "$#" -eq 4 ] && [ -n "$1" ] && [ -n "$4" ] || { echo "usage: $0 PKG UPSTREAM MARKER OUTDIR" >&2; exit 2; }

PKG=$1
UPSTREAM_WANTED=$2
MARKER=$3
STAMP_TEXT="$PKG $UPSTREAM_WANTED debian-source skip-patches"

mkdir -p "$4"
OUTDIR=$(cd "$4" && pwd)
TREE=$OUTDIR/$PKG
exec 9>"$OUTDIR/.lock"
flock 9

have_tree() {
  [ "$(cat "$OUTDIR/stamp" 2>/dev/null)" = "$STAMP_TEXT" ] && [ -f "$TREE/$MARKER" ]
}
if have_tree; then
  touch "$OUTDIR/stamp" # newer than this script, so make stops asking
  exit 0
fi

die() { echo "fetch-deb-source $PKG: $*" >&2; [ -f "${WORK:-}/log" ] && tail -n 20 "$WORK/log" >&2; exit 1; }
command -v apt-get >/dev/null && command -v dpkg-source >/dev/null ||
  die "needs apt-get and dpkg-source (tools/install-deps.sh)"

rm -rf "$OUTDIR/stamp" "$TREE"
WORK=$(mktemp -d "$OUTDIR/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# apt drops privileges to _apt for downloads; it must be able to write here.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$WORK" || true; fi

get_source() { (cd "$WORK" && apt-get source --download-only -q "$PKG") >>"$WORK/log" 2>&1; }
if ! get_source; then
  # A fresh machine may lack the deb-src index: refresh once when we may.
  [ "$(id -u)" -eq 0 ] || die "apt-get source $PKG failed (deb-src enabled and indexed? see tools/install-deps.sh)"
  apt-get update -q >>"$WORK/log" 2>&1 || true
  get_source || die "apt-get source $PKG failed"
fi

shopt -s nullglob
dsc=("$WORK"/${PKG}_*.dsc)
[ "${#dsc[@]}" -eq 1 ] || die "expected one ${PKG}_*.dsc, found ${#dsc[@]}"
version=$(sed -n 's/^Version: *//p' "${dsc[0]}" | head -n1)
upstream=${version#*:}
upstream=${upstream%%-*}
# shellcheck disable=SC2053 # the wanted release may be a pattern
[[ $upstream == $UPSTREAM_WANTED ]] || die "Debian offers $PKG $version; this build is written for $UPSTREAM_WANTED"

(cd "$WORK" && dpkg-source --skip-patches -x "${dsc[0]}" src) >>"$WORK/log" 2>&1 || die "dpkg-source -x failed"
[ -f "$WORK/src/$MARKER" ] || die "unexpected layout of the $PKG tree (no $MARKER)"
mv "$WORK/src" "$TREE"
echo "$STAMP_TEXT" >"$OUTDIR/stamp"
echo "$PKG: fetched $version (upstream tree, Debian patches not applied) -> $TREE"

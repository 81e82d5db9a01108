#!/usr/bin/env bash
# Fetches the Linux guest's two Debian packages, unmodified, and unpacks them:
# Debian 12's cloud kernel (linux-image-6.1.0-N-cloud-amd64-unsigned, the
# highest N the archive offers) and busybox-static.
#
#   tools/fetch-linux.sh OUTDIR
#
# Leaves OUTDIR/bzImage (the kernel, a copy of /boot/vmlinuz-*), OUTDIR/msr.ko, OUTDIR/busybox
# and OUTDIR/stamp naming both package versions. The package is picked by name
# pattern, so a fresh machine gets whatever 6.1 cloud kernel Debian ships then.
# Idempotent: skips when the stamp and both files are there.
set -euo pipefail
[ "$#" -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
STAMP=$OUT/stamp

if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT/.lock"
  flock 9
fi
if [ -s "$STAMP" ] && [ -s "$OUT/bzImage" ] && [ -x "$OUT/busybox" ] && [ -s "$OUT/msr.ko" ]; then
  touch "$STAMP"
  exit 0
fi

# The 6.1 series is the one measured in Bochs (a bzImage with few drivers).
kpkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' | awk '{print $1}' |
  sort -V | tail -n 1)
[ -n "$kpkg" ] || { echo "fetch-linux: no linux-image-6.1.0-*-cloud-amd64-unsigned in the archive (apt-get update?)" >&2; exit 1; }

TMP=$(mktemp -d "$OUT/.fetch.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# As root, apt downloads as _apt: let it write here.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$TMP"; fi
(cd "$TMP" && apt-get download -q "$kpkg" busybox-static >"$TMP/log" 2>&1) || { cat "$TMP/log" >&2; exit 1; }
for deb in "$TMP"/*.deb; do dpkg-deb -x "$deb" "$TMP/root"; done
kernel=$(ls "$TMP"/root/boot/vmlinuz-* | head -n 1)
grep -q HdrS <(head -c 1024 "$kernel") || { echo "fetch-linux: $kernel is not a bzImage" >&2; exit 1; }
install -m 0644 "$kernel" "$OUT/bzImage"
install -m 0755 "$TMP/root/bin/busybox" "$OUT/busybox"
# The msr driver (a module in this kernel) lets the guest's tests read MSRs from user space.
install -m 0644 "$(find "$TMP/root/lib/modules" -name msr.ko | head -n 1)" "$OUT/msr.ko"
{ dpkg-deb -f "$TMP"/linux-image-*.deb Package Version; dpkg-deb -f "$TMP"/busybox-static*.deb Package Version; } |
  paste -sd' ' > "$STAMP"
echo "fetch-linux: $(cat "$STAMP")"

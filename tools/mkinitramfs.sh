#!/usr/bin/env bash
# Builds the Linux guest's initramfs (cpio newc, gzip) from busybox-static,
# the msr driver and tests/linux/: /init, /bin/workload.
# usage: tools/mkinitramfs.sh OUT.gz BUSYBOX MSR.ko INIT WORKLOAD
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: $0 OUT.gz BUSYBOX MSR.ko INIT WORKLOAD" >&2; exit 2; }
out=$1 busybox=$2 msr=$3 init=$4 workload=$5
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib}
install -m 0755 "$busybox" "$root/bin/busybox"
install -m 0755 "$init" "$root/init"
install -m 0755 "$workload" "$root/bin/workload"
install -m 0644 "$msr" "$root/lib/msr.ko"
ln -s busybox "$root/bin/sh"
# Fixed times and a sorted list: the same inputs give the same archive.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) | gzip -9 -n > "$out.tmp"
mv "$out.tmp" "$out"

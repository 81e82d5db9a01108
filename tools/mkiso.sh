#!/usr/bin/env bash
# Builds a GRUB rescue ISO that boots the hypervisor with a command line and the guest as its module.
# usage: tools/mkiso.sh OUT.iso HV.elf GUEST.bin "CMDLINE"
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 OUT.iso HV.elf GUEST.bin CMDLINE" >&2; exit 2; }
out=$1 hv=$2 guest=$3 cmdline=$4
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$hv" "$stage/boot/hv.elf"
cp "$guest" "$stage/boot/guest.bin"
cat > "$stage/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_output serial
menuentry "FerryHV" {
  multiboot2 /boot/hv.elf $cmdline
  module2 /boot/guest.bin guest
  boot
}
CFG
mkdir -p "$(dirname "$out")"
grub-mkrescue -o "$out" "$stage" >"$stage.log" 2>&1 || { cat "$stage.log" >&2; rm -f "$stage.log"; exit 1; }
rm -f "$stage.log"

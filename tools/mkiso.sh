#!/usr/bin/env bash
# Builds a GRUB rescue ISO that boots the hypervisor with a command line and the guest as its module.
# usage: tools/mkiso.sh OUT.iso HV.elf GUEST "CMDLINE" ["GUEST_STRING" [INITRD]]
# GUEST is the test guest's flat image or a Linux bzImage; GUEST_STRING is its module's string (a
# Linux kernel's command line; default "guest"); INITRD, when given, is the second module.
set -euo pipefail
[ $# -ge 4 ] && [ $# -le 6 ] || { echo "usage: $0 OUT.iso HV.elf GUEST CMDLINE [GUEST_STRING [INITRD]]" >&2; exit 2; }
out=$1 hv=$2 guest=$3 cmdline=$4 guest_string=${5:-guest} initrd=${6:-}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$hv" "$stage/boot/hv.elf"
cp "$guest" "$stage/boot/guest.bin"
initrd_line=
if [ -n "$initrd" ]; then
  cp "$initrd" "$stage/boot/initrd.gz"
  initrd_line="module2 /boot/initrd.gz initrd"
fi
cat > "$stage/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_output serial
menuentry "FerryHV" {
  multiboot2 /boot/hv.elf $cmdline
  module2 /boot/guest.bin $guest_string
  $initrd_line
  boot
}
CFG
mkdir -p "$(dirname "$out")"
grub-mkrescue -o "$out" "$stage" >"$stage.log" 2>&1 || { cat "$stage.log" >&2; rm -f "$stage.log"; exit 1; }
rm -f "$stage.log"

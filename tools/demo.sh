#!/usr/bin/env bash
# The demo: boots the hypervisor in Bochs with the test guest on 2 vCPUs (or,
# with an ISO made for it, Linux with its workload) and shows its console live
# until the hypervisor powers the machine off.
# usage: tools/demo.sh ISO
#        tools/demo.sh --pxe HV.elf GUEST.bin "CMDLINE"
#          the same, but the host is diskless and boots through PXE: a network
#          boot tree for it, dnsmasq (DHCP, TFTP) and the host in a network
#          namespace of their own (needs root), GRUB's PXE image as the loader
set -euo pipefail
out=build/demo
mkdir -p "$out"
serial=$out/serial.log
: > "$serial"
media=${1:-build/hv.iso}
extra=
if [ "$media" = --pxe ]; then
  [ $# -eq 4 ] || { echo "usage: $0 --pxe HV.elf GUEST.bin CMDLINE" >&2; exit 2; }
  mkdir -p "$out/hosts"
  echo "$4" > "$out/hosts/default.conf"
  tools/mknetboot.sh "$out/netboot" "$2" "$3" "$out/hosts" > /dev/null
  ns=hvdemo$$
  tools/netbed.sh up "$ns" 1
  tools/netbed.sh pxe "$ns" "$out/netboot" boot/grub/i386-pc/core.0 > "$out/dnsmasq.log" 2>&1 &
  trap 'tools/netbed.sh down "$ns"' EXIT  # deleting the namespace ends dnsmasq and Bochs' tap
  extra="e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=tuntap, ethdev=/dev/net/tun:tap0, script=none, bootrom=/usr/lib/ipxe/82540em.rom"
  media=pxe
  echo "demo: a diskless host boots through PXE (iPXE ROM, DHCP and TFTP from dnsmasq, GRUB's PXE image)"
else
  echo "demo: booting $media in Bochs (VT-x with EPT emulated; about 5 wall seconds per emulated second)"
fi
echo "demo: console of the hypervisor, also in $serial"
echo
runner=(tools/run-bochs.sh "$media" "$serial" 300)
[ -z "$extra" ] || runner=(ip netns exec "$ns" env BOCHS_EXTRA="$extra" "${runner[@]}")
"${runner[@]}" &
bochs_pid=$!
trap 'kill $bochs_pid 2>/dev/null || true' INT TERM
# The console shows GRUB's screen codes first; show only the hypervisor's lines.
tail -n +1 -f --pid=$bochs_pid "$serial" | grep --line-buffered -E '^\[ *[0-9]+\.[0-9]+\]'
wait $bochs_pid || true
echo
if grep -q 'Linux boot protocol' "$serial"; then
  if grep -q 'work: iter=' "$serial" && ! grep -q 'result=BAD' "$serial" && grep -q 'guest# ' "$serial"; then
    echo "demo: Linux booted to its shell; its workload's checks stayed clean ($(grep -c 'work: iter=' "$serial") iterations)"
  else
    echo "demo: Linux did not reach its shell and a clean workload; see $serial" >&2
    exit 1
  fi
elif grep -q 'progress vcpu=1 ' "$serial" && grep -q 'progress vcpu=0 ' "$serial" && ! grep -q CORRUPT "$serial"; then
  echo "demo: the test guest worked on both vCPUs, its memory self-check clean"
else
  echo "demo: the guest did not make progress on both vCPUs; see $serial" >&2
  exit 1
fi

#!/usr/bin/env bash
# The demo: boots the hypervisor in Bochs with the test guest on 2 vCPUs and
# shows its console live until the hypervisor powers the machine off.
# usage: tools/demo.sh ISO
set -euo pipefail
iso=${1:-build/hv.iso}
out=build/demo
mkdir -p "$out"
serial=$out/serial.log
: > "$serial"
echo "demo: booting $iso in Bochs (VT-x with EPT emulated; about 5 wall seconds per emulated second)"
echo "demo: console of the hypervisor, also in $serial"
echo
tools/run-bochs.sh "$iso" "$serial" 300 &
bochs_pid=$!
trap 'kill $bochs_pid 2>/dev/null || true' INT TERM
# The console shows GRUB's screen codes first; show only the hypervisor's lines.
tail -n +1 -f --pid=$bochs_pid "$serial" | grep --line-buffered -E '^\[ *[0-9]+\.[0-9]+\]'
wait $bochs_pid || true
echo
if grep -q 'progress vcpu=1 ' "$serial" && grep -q 'progress vcpu=0 ' "$serial" && ! grep -q CORRUPT "$serial"; then
  echo "demo: the test guest worked on both vCPUs, its memory self-check clean"
else
  echo "demo: the guest did not make progress on both vCPUs; see $serial" >&2
  exit 1
fi

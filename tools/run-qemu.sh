#!/usr/bin/env bash
# Boots an ISO in QEMU, serial output to a file.
# usage: tools/run-qemu.sh ISO SERIAL_LOG [SECONDS] [kvm|tcg]
# kvm runs our VT-x code on the host's VT-x (-cpu host); tcg has no VT-x at
# all and serves to check how the hypervisor refuses such a CPU.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 ISO SERIAL_LOG [SECONDS] [kvm|tcg]" >&2; exit 2; }
iso=$1 serial=$2 secs=${3:-120} accel=${4:-tcg}
case "$accel" in
  kvm) cpu=(-accel kvm -cpu host) ;;
  tcg) cpu=(-accel tcg -cpu qemu64) ;;
  *) echo "$0: accelerator must be kvm or tcg, not '$accel'" >&2; exit 2 ;;
esac
: > "$serial"
err=$(mktemp)
trap 'rm -f "$err"' EXIT
set +e
timeout --signal=TERM --kill-after=5 "$secs" qemu-system-x86_64 "${cpu[@]}" -m "${QEMU_MEGS:-256}" -smp 1 \
  -cdrom "$iso" -boot d -serial "file:$serial" -display none -monitor none -no-reboot \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 > "$err" 2>&1 < /dev/null
rc=$?
set -e
if [ ! -s "$serial" ]; then
  echo "run-qemu: QEMU (exit status $rc) wrote no serial output; its last words:" >&2
  tail -n 20 "$err" >&2
fi
# isa-debug-exit makes QEMU exit non-zero by design; the serial log is the verdict.
exit 0

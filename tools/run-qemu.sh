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
set +e
timeout --signal=TERM --kill-after=5 "$secs" qemu-system-x86_64 "${cpu[@]}" -m "${QEMU_MEGS:-256}" -smp 1 \
  -cdrom "$iso" -boot d -serial "file:$serial" -display none -monitor none -no-reboot \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 > /dev/null 2>&1 < /dev/null
set -e
# isa-debug-exit makes QEMU exit non-zero by design; the serial log is the verdict.
exit 0

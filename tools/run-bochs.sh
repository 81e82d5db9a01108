#!/usr/bin/env bash
# Boots an ISO in Bochs (VT-x with EPT, headless), serial output to a file.
# usage: tools/run-bochs.sh ISO|pxe SERIAL_LOG [SECONDS]
# "pxe" instead of an ISO boots from the network: no disk at all, and
# BOCHS_EXTRA must give an e1000 with bootrom= (its option ROM does the PXE boot).
# Stops after SECONDS of wall time (default 120) if the hypervisor has not
# powered the machine off itself (run_for=...). Extra bochsrc lines may be
# given in the BOCHS_EXTRA environment variable (one per line). BOCHS_SYNC picks Bochs' clock
# synchronisation (none, slowdown, realtime, both; default none): see docs/migration-policy.md.
# BOCHS_CPU picks Bochs' CPU model (default tigerlake: VT-x with EPT, its A/D flags, PML and the
# preemption timer, and AVX-512 with IFMA, which the record MAC's fastest path uses).
# BOCHS_COM1 replaces the serial port's mode (e.g. "mode=term, dev=/dev/pts/3" for a
# console that also takes input); SERIAL_LOG then stays empty.
set -euo pipefail
sync=${BOCHS_SYNC:-none}
case "$sync" in none|slowdown|realtime|both) ;; *) echo "run-bochs: BOCHS_SYNC=$sync: none, slowdown, realtime or both" >&2; exit 2 ;; esac
[ $# -ge 2 ] || { echo "usage: $0 ISO SERIAL_LOG [SECONDS]" >&2; exit 2; }
serial=$2 secs=${3:-120}
if [ "$1" = pxe ]; then
  media="boot: network"
else
  media="ata0-master: type=cdrom, path=$(realpath "$1"), status=inserted
boot: cdrom"
fi
: > "$serial"
serial=$(realpath "$serial")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# ips=50M with sync=none: the TSC advances one tick per emulated instruction, so runs are repeatable.
# sync=slowdown keeps that tick but never lets emulated time run ahead of the wall clock (by more than
# Bochs' one-second lead): two hosts then share one clock, as the migration tests need.
# Self-contained: no sound card (Bochs 2.7 aborts at start-up when ALSA finds none), no speaker, no
# display beyond a VNC server that never waits for a viewer, nothing read from a home directory.
cat > "$work/bochsrc" <<RC
megs: ${BOCHS_MEGS:-256}
cpu: model=${BOCHS_CPU:-tigerlake}, count=1, ips=${BOCHS_IPS:-50000000}
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
$media
com1: enabled=1, ${BOCHS_COM1:-mode=file, dev=$serial}
display_library: rfb, options="timeout=0"
log: $work/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
clock: sync=$sync, time0=local
sound: driver=dummy
speaker: enabled=0
${BOCHS_EXTRA:-}
RC
echo c > "$work/cont.rc"
# A machine without a NIC gets a network namespace of its own: its VNC port cannot collide with
# another Bochs (or anything else listening), and it reaches no network at all.
isolate=()
case "${BOCHS_EXTRA:-}" in *e1000*) ;; *) isolate=(unshare --net) ;; esac
set +e
# The debugger is compiled into Debian's Bochs: cont.rc makes it run at once.
HOME=$work timeout --signal=TERM --kill-after=5 "$secs" "${isolate[@]}" bochs -q -f "$work/bochsrc" -rc "$work/cont.rc" \
  > "$work/stdout" 2>&1 < /dev/null
rc=$?
set -e
if [ -n "${BOCHS_LOG_COPY:-}" ]; then cp "$work/bochs.log" "$BOCHS_LOG_COPY"; fi
if [ -z "${BOCHS_COM1:-}" ] && [ ! -s "$serial" ]; then
  echo "run-bochs: Bochs (exit status $rc) wrote no serial output; its last words:" >&2
  tail -n 20 "$work/stdout" "$work/bochs.log" >&2 || true
fi
# Bochs exits 1 after the hypervisor's "Shutdown" request; the serial log is the verdict.
exit 0

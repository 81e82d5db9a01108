#!/usr/bin/env bash
# The migration demo: two diskless hosts boot the hypervisor through PXE, the
# test guest runs on host A, and the operator moves it to host B with curl
# against A's management API while it runs; the guest carries on on B.
# With --linux, the hosts boot from CDs instead, A's VM is Debian's Linux
# running its file-checking shell loop, and the VM goes to B and back to A
# while the loop runs; its lines show on each host's console.
# usage: tools/demo-migration.sh HV.elf GUEST.bin
#        tools/demo-migration.sh --linux HV.elf GUEST.bin KERNEL INITRD "KERNEL_CMDLINE"
# Needs root (a network namespace, taps, dnsmasq). Everything runs in a
# namespace of its own, deleted at the end (also on failure or Ctrl-C):
# nothing is addressed in the machine's own namespace.
set -euo pipefail
linux=0
if [ "${1:-}" = --linux ]; then
  [ $# -eq 6 ] || { echo "usage: $0 --linux HV.elf GUEST.bin KERNEL INITRD KERNEL_CMDLINE" >&2; exit 2; }
  linux=1 kernel=$4 initrd=$5 kernel_cmdline=$6
  shift
fi
[ $# -eq 2 ] || [ $linux = 1 ] || { echo "usage: $0 HV.elf GUEST.bin" >&2; exit 2; }
hv=$1 guest=$2
out=build/demo-migration
ns=hvdemo$$
py=/usr/bin/python3
# Example secrets for a throwaway bed: real hosts get their own (README.md, "Network boot").
token=demo-api-token-0123456789
secret=demo-migration-secret-0123
mac_a=52:54:00:00:00:0a addr_a=10.77.0.10
mac_b=52:54:00:00:00:0b addr_b=10.77.0.11
port=7000
# Bochs receives one frame per emulated ms: a lower ips makes emulated time, and the link, faster.
export BOCHS_IPS=10000000
wall=600 # seconds any host may run at most
# Linux: the kernel's lpj and its tick's cost assume 50M; 80 MiB is about the least it boots in
# (docs/linux-guest.md), PML the log-dirty backend Bochs tracks a paging guest with.
if [ $linux = 1 ]; then
  export BOCHS_IPS=50000000 BOCHS_MEGS=512
  wall=900
fi

say() { printf '\033[1mdemo: %s\033[0m\n' "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # What runs in the namespace (Bochs under its timeout, dnsmasq) would outlive the namespace itself.
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  tools/netbed.sh down "$ns" # deleting the namespace ends dnsmasq and the hosts' taps
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$out"
mkdir -p "$out/hosts"
# One configuration per host, keyed by its MAC: A runs the test guest, B boots empty and waits for a VM.
common="api.token=$token migr.secret=$secret run_for=$((wall * 1000))"
# An idle host's emulated clock races ahead (Bochs skips a halted CPU's time): B would reach any run_for
# long before Linux has booted on A. Each host's Bochs still ends after $wall wall seconds.
[ $linux = 0 ] || common="api.token=$token migr.secret=$secret"
if [ $linux = 1 ]; then
  say "building a CD for host A (the hypervisor, Linux and its initramfs) and one for host B (no VM)"
  tools/mkiso.sh "$out/A.iso" "$hv" "$kernel" "net.mgmt=$addr_a/24 mem=80M vcpus=1 dirty=pml $common" \
    "$kernel_cmdline" "$initrd"
  tools/mkiso.sh "$out/B.iso" "$hv" "$guest" "net.mgmt=$addr_b/24 vm=none dirty=pml $common"
  tools/netbed.sh up "$ns" 2
else
  echo "net.mgmt=$addr_a/24 vcpus=2 mem=8M guest.rate=50 $common" > "$out/hosts/${mac_a//:/-}.conf"
  echo "net.mgmt=$addr_b/24 vm=none $common" > "$out/hosts/${mac_b//:/-}.conf"
  echo "net.mgmt=dhcp vm=none" > "$out/hosts/default.conf"
  say "building the network boot tree (make netboot) for hosts A ($mac_a) and B ($mac_b)"
  CMDLINE_CHECK=${CMDLINE_CHECK:-build/tools/cmdline-check} tools/mknetboot.sh "$out/netboot" "$hv" "$guest" "$out/hosts" > /dev/null
  tools/netbed.sh up "$ns" 2
  tools/netbed.sh pxe "$ns" "$out/netboot" boot/grub/i386-pc/core.0 > "$out/dnsmasq.log" 2>&1 &
  pids+=($!)
fi

# host NAME MAC TAP: powers on a host, diskless (PXE) or from its CD; its console goes to $out/NAME.log.
host() {
  local line="e1000: enabled=1, mac=$2, ethmod=tuntap, ethdev=/dev/net/tun:$3, script=none" media=pxe
  if [ $linux = 1 ]; then media=$out/$1.iso; else line="$line, bootrom=/usr/lib/ipxe/82540em.rom"; fi
  ip netns exec "$ns" env BOCHS_EXTRA="$line" tools/run-bochs.sh "$media" "$out/$1.log" "$wall" &
  pids+=($!)
  # Its console, live, prefixed with the host's name (GRUB's screen codes left out).
  # With Linux, an idle host's status line (its clock races while it waits) is left out: hundreds a minute.
  local quiet='^$'
  [ $linux = 0 ] || quiet='I host: uptime [0-9]+ ms, no VM'
  # tail's own pid goes to pids: once it ends, the filters after it see the end of their input.
  tail -n +1 -F "$out/$1.log" 2>/dev/null > >(grep --line-buffered -aE '^\[ *[0-9]+\.[0-9]+\]' |
    grep --line-buffered -avE "$quiet" | sed -u "s/^/$1 | /") &
  pids+=($!)
}

# await NAME REGEX SECONDS [SEEN]: waits until host NAME's console has a line matching REGEX (SEEN+1 such lines).
seen() { grep -acE "$2" "$out/$1.log" 2>/dev/null || true; }
await() {
  local end=$((SECONDS + $3))
  until [ "$(seen "$1" "$2")" -gt "${4:-0}" ]; do
    [ $SECONDS -lt $end ] || die "host $1: no '$2' within $3 s (console: $out/$1.log)"
    sleep 1
  done
}

if [ $linux = 1 ]; then
  say "powering on host A and host B, each from its CD; A boots Linux as its VM (its console lines: I guest: ...)"
else
  say "powering on host A and host B: each boots over PXE (iPXE ROM, DHCP and TFTP from dnsmasq, GRUB's PXE image)"
fi
host A "$mac_a" tap0
sleep 2 # two Bochs' VNC servers starting at once would collide on their port
host B "$mac_b" tap1
await A 'I api: listening on' 180
await B 'I api: listening on' 180
# What shows the guest at work on a host's console, and what would show it broken.
if [ $linux = 1 ]; then
  work_re='work: iter=[0-9]+ .* result=ok'
  bad_re='result=BAD|bad=[1-9]|soft lockup|RCU Stall|self-detected stall|clocksource: Marking|Kernel panic|BUG:|Oops'
else
  work_re='vcpu1\] progress'
  bad_re='CORRUPT|\] progress vcpu=.* errors=[1-9]'
fi
await A "$work_re" $((linux ? 600 : 60))

# api HOST METHOD PATH [BODY]: the operator's curl, shown, then its answer.
api() {
  local cmd=(curl -s -m 20 -X "$2" -H "Authorization: Bearer $token")
  [ $# -lt 4 ] || cmd+=(-d "$4")
  printf '\033[1m$ curl -X %s -H "Authorization: Bearer $TOKEN"%s http://%s:8080/api/v1/%s\033[0m\n' \
    "$2" "${4:+ -d '$4'}" "$1" "$3"
  answer=$(ip netns exec "$ns" "${cmd[@]}" -w '\n%{http_code}' "http://$1:8080/api/v1/$3")
  code=${answer##*$'\n'} answer=${answer%$'\n'*}
  echo "$answer  (HTTP $code)"
}
field() { $py -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$answer" "$1"; }

# migrate FROM FROM_ADDR TO TO_ADDR: the operator's migration, watched on the sender's status until it ends.
migrate() {
  say "the operator (TOKEN is the hosts' api.token) asks $1 about its VM, tells $3 to wait for it, and $1 to send it"
  api "$2" GET vm.info
  uuid=$(field uuid)
  api "$4" PUT vm.receive-migration "{\"listen\": \"$4:$port\", \"connections\": 4}"
  [ "$code" = 202 ] || die "$3 did not accept to receive"
  local before_done
  before_done=$(seen "$3" 'I migr: receive done')
  api "$2" PUT vm.send-migration "{\"destination\": \"$4:$port\", \"connections\": 4, \"downtime_ms\": 300}"
  [ "$code" = 202 ] || die "$1 did not accept to send"

  say "progress, from $1's vm.migration-status every 2 s (and each host's console line every second)"
  local end=$((SECONDS + 300)) state
  while :; do
    answer=$(ip netns exec "$ns" curl -s -m 20 -H "Authorization: Bearer $token" "http://$2:8080/api/v1/vm.migration-status")
    $py - "$answer" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
s["expected_downtime_ms"] = "-" if s["expected_downtime_ms"] is None else s["expected_downtime_ms"]
print("status | {state} {phase}, pass {pass}, {bytes_sent} bytes sent, {remaining_bytes} remaining, "
      "{bandwidth} B/s, dirty {dirty_rate} pages/s, throttle {throttle_percent}%, expected downtime "
      "{expected_downtime_ms} ms".format(**s))
PY
    state=$($py -c 'import json,sys; print(json.loads(sys.argv[1])["state"])' "$answer")
    case $state in done | failed | committed-unconfirmed) break ;; esac
    [ $SECONDS -lt $end ] || die "the migration did not end within 300 s"
    sleep 2
  done
  api "$2" GET vm.migration-status
  [ "$(field state)" = done ] || die "the migration ended '$(field state)': $(field failure)"
  downtime=$(field downtime_ms) passes=$(field pass)

  say "$3 runs the VM now: the same VM (its uuid), and the guest carries on"
  await "$3" 'I migr: receive done' 30 "$before_done"
  api "$4" GET vm.info
  [ "$(field uuid)" = "$uuid" ] || die "$3's VM is $(field uuid), $1's was $uuid"
  await "$3" "$work_re" 180 $(($(seen "$3" "$work_re") + 2))
  await "$1" 'I host: uptime [0-9]+ ms, no VM' 30 "$(seen "$1" 'I host: uptime [0-9]+ ms, no VM')"
  ! grep -aqE "$bad_re" "$out/A.log" "$out/B.log" || die "the guest found trouble: $(grep -ahE "$bad_re" "$out/A.log" "$out/B.log" | head -3)"
  say "VM $uuid moved from $1 to $3 while it ran: downtime $downtime ms ($1's clock), $passes passes"
  if [ $linux = 1 ]; then
    say "the loop's last line on $1 and its first three on $3 (up= is the guest's /proc/uptime):"
    grep -ahE "$work_re" "$out/$1.log" | tail -n 1 | sed "s/^/  $1 | /"
    # Whole lines (up= ends in hundredths) after $3's last 'receive done'.
    awk '/I migr: receive done/ { n = 0; delete l } /'"$work_re"' up=[0-9]+\.[0-9][0-9]$/ && n < 3 { l[n++] = $0 }
         END { for (i = 0; i < n; i++) print l[i] }' "$out/$3.log" | sed "s/^/  $3 | /"
  fi
}

migrate A $addr_a B $addr_b
[ $linux = 0 ] || migrate B $addr_b A $addr_a
sleep 1
echo
if [ $linux = 1 ]; then
  say "Linux went from A to B and back while its loop ran: every check clean on both hosts, no soft lockup, RCU stall or clocksource trouble"
else
  say "on B the test guest carries on on both vCPUs with its memory self-check clean (errors=0); A has no VM now"
fi
say "consoles in $out/A.log and $out/B.log; the namespace goes now"

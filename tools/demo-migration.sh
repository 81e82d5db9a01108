#!/usr/bin/env bash
# The migration demo: two diskless hosts boot the hypervisor through PXE, the
# test guest runs on host A, and the operator moves it to host B with curl
# against A's management API while it runs; the guest carries on on B.
# usage: tools/demo-migration.sh HV.elf GUEST.bin
# Needs root (a network namespace, taps, dnsmasq). Everything runs in a
# namespace of its own, deleted at the end (also on failure or Ctrl-C):
# nothing is addressed in the machine's own namespace.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 HV.elf GUEST.bin" >&2; exit 2; }
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

say() { printf '\033[1mdemo: %s\033[0m\n' "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  tools/netbed.sh down "$ns" # deleting the namespace ends dnsmasq and the hosts' taps
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$out"
mkdir -p "$out/hosts"
# One configuration per host, keyed by its MAC: A runs the test guest, B boots empty and waits for a VM.
common="api.token=$token migr.secret=$secret run_for=$((wall * 1000))"
echo "net.mgmt=$addr_a/24 vcpus=2 mem=8M guest.rate=50 $common" > "$out/hosts/${mac_a//:/-}.conf"
echo "net.mgmt=$addr_b/24 vm=none $common" > "$out/hosts/${mac_b//:/-}.conf"
echo "net.mgmt=dhcp vm=none" > "$out/hosts/default.conf"
say "building the network boot tree (make netboot) for hosts A ($mac_a) and B ($mac_b)"
CMDLINE_CHECK=${CMDLINE_CHECK:-build/tools/cmdline-check} tools/mknetboot.sh "$out/netboot" "$hv" "$guest" "$out/hosts" > /dev/null

tools/netbed.sh up "$ns" 2
tools/netbed.sh pxe "$ns" "$out/netboot" boot/grub/i386-pc/core.0 > "$out/dnsmasq.log" 2>&1 &
pids+=($!)

# host NAME MAC TAP: powers on a diskless host; its console goes to $out/NAME.log.
host() {
  local line="e1000: enabled=1, mac=$2, ethmod=tuntap, ethdev=/dev/net/tun:$3, script=none, bootrom=/usr/lib/ipxe/82540em.rom"
  ip netns exec "$ns" env BOCHS_EXTRA="$line" tools/run-bochs.sh pxe "$out/$1.log" "$wall" &
  pids+=($!)
  # Its console, live, prefixed with the host's name (GRUB's screen codes left out).
  tail -n +1 -F "$out/$1.log" 2>/dev/null | grep --line-buffered -aE '^\[ *[0-9]+\.[0-9]+\]' | sed -u "s/^/$1 | /" &
  pids+=($!)
}

# await NAME REGEX SECONDS: waits until host NAME's console has a line matching REGEX.
await() {
  local end=$((SECONDS + $3))
  until grep -aqE "$2" "$out/$1.log" 2>/dev/null; do
    [ $SECONDS -lt $end ] || die "host $1: no '$2' within $3 s (console: $out/$1.log)"
    sleep 1
  done
}

say "powering on host A and host B: each boots over PXE (iPXE ROM, DHCP and TFTP from dnsmasq, GRUB's PXE image)"
host A "$mac_a" tap0
sleep 2 # two Bochs' VNC servers starting at once would collide on their port
host B "$mac_b" tap1
await A 'I api: listening on' 180
await B 'I api: listening on' 180
await A 'vcpu1\] progress' 60

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

say "the operator (TOKEN is the hosts' api.token) asks A about its VM, tells B to wait for it, and A to send it"
api $addr_a GET vm.info
uuid=$(field uuid)
api $addr_b PUT vm.receive-migration "{\"listen\": \"$addr_b:$port\", \"connections\": 4}"
[ "$code" = 202 ] || die "B did not accept to receive"
api $addr_a PUT vm.send-migration "{\"destination\": \"$addr_b:$port\", \"connections\": 4, \"downtime_ms\": 300}"
[ "$code" = 202 ] || die "A did not accept to send"

say "progress, from A's vm.migration-status every 2 s (and each host's console line every second)"
end=$((SECONDS + 300))
while :; do
  answer=$(ip netns exec "$ns" curl -s -m 20 -H "Authorization: Bearer $token" "http://$addr_a:8080/api/v1/vm.migration-status")
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
api $addr_a GET vm.migration-status
[ "$(field state)" = done ] || die "the migration ended '$(field state)': $(field failure)"
downtime=$(field downtime_ms) passes=$(field pass)

say "B runs the VM now: the same VM (its uuid), and the guest carries on"
await B 'I migr: receive done' 30
api $addr_b GET vm.info
[ "$(field uuid)" = "$uuid" ] || die "B's VM is $(field uuid), A's was $uuid"
before=$(grep -ac 'vcpu1\] progress' "$out/B.log" || true)
end=$((SECONDS + 90))
until [ "$(grep -ac 'vcpu1\] progress' "$out/B.log" || true)" -ge $((before + 3)) ]; do
  [ $SECONDS -lt $end ] || die "the guest made no progress on B"
  sleep 1
done
await A 'I host: uptime [0-9]+ ms, no VM' 30
grep -ahE '\] progress vcpu=' "$out/A.log" "$out/B.log" | grep -qv 'errors=0' && die "the guest found corruption"
grep -aq CORRUPT "$out/A.log" "$out/B.log" && die "the guest found corruption"
sleep 1
echo
say "VM $uuid moved from A to B while it ran: downtime $downtime ms (A's clock), $passes passes;"
say "on B the test guest carries on on both vCPUs with its memory self-check clean (errors=0); A has no VM now"
say "consoles in $out/A.log and $out/B.log; the namespace goes now"

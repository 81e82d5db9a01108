#!/usr/bin/env bash
# The network test bed: one network namespace holding a bridge with an
# address and one tap per emulated host. Nothing is created or addressed in
# the machine's own namespace, so test traffic cannot leave the machine.
#
# usage: tools/netbed.sh up NS [TAPS] [BRIDGE_ADDR]
#          creates namespace NS, bridge br0 (BRIDGE_ADDR, default 10.77.0.1/24)
#          and taps tap0..tap<TAPS-1> (default 1), all up, taps in the bridge
#        tools/netbed.sh tap NS tapN
#          adds one more tap, up, to the bridge of NS
#        tools/netbed.sh pxe NS TFTP_ROOT BOOT_FILE [DNSMASQ_ARGS...]
#          runs dnsmasq in the foreground on br0 of NS: DHCP (10.77.0.100-150)
#          with BOOT_FILE, TFTP from TFTP_ROOT, and the answers iPXE would
#          otherwise wait for (ProxyDHCP ~3 s, IPv6 router advertisements ~12 s);
#          no ping before an offer (the bed holds only the hosts the caller starts)
#        tools/netbed.sh down NS
#          deletes NS and everything in it (safe when it does not exist)
# Run the hosts inside it: ip netns exec NS tools/run-bochs.sh ...
# with the e1000 line ethmod=tuntap, ethdev=/dev/net/tun:tapN. Needs root.
set -euo pipefail

usage() { echo "usage: $0 up NS [TAPS] [BRIDGE_ADDR] | tap NS tapN | pxe NS TFTP_ROOT BOOT_FILE [ARGS] | down NS" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1 ns=$2
[[ $ns =~ ^[A-Za-z0-9_.-]{1,32}$ ]] || { echo "netbed: bad namespace name '$ns'" >&2; exit 2; }
in_ns() { ip netns exec "$ns" "$@"; }

case $cmd in
up)
  taps=${3:-1} addr=${4:-10.77.0.1/24}
  [[ $taps =~ ^[0-9]+$ ]] && [ "$taps" -ge 1 ] && [ "$taps" -le 16 ] || { echo "netbed: TAPS must be 1..16" >&2; exit 2; }
  if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
    echo "netbed: namespace $ns exists already (tools/netbed.sh down $ns)" >&2; exit 1
  fi
  ip netns add "$ns"
  # A half-built bed is torn down again rather than left behind.
  trap 'ip netns del "$ns" 2>/dev/null || true' ERR
  in_ns ip link set lo up
  in_ns ip link add br0 type bridge
  for ((i = 0; i < taps; i++)); do
    in_ns ip tuntap add dev "tap$i" mode tap
    in_ns ip link set "tap$i" master br0
    # A write to a down tap is a Bochs panic: up before any host starts.
    in_ns ip link set "tap$i" up
  done
  in_ns ip addr add "$addr" dev br0
  in_ns ip link set br0 up
  trap - ERR
  ;;
tap)
  # One more tap in an existing bed: tools/netbed.sh tap NS NAME
  tap=${3:-}
  [[ $tap =~ ^tap[0-9]{1,2}$ ]] || { echo "netbed: tap name must be tapN" >&2; exit 2; }
  in_ns ip tuntap add dev "$tap" mode tap
  in_ns ip link set "$tap" master br0
  in_ns ip link set "$tap" up
  ;;
pxe)
  [ $# -ge 4 ] || usage
  root=$(realpath "$3") boot=$4
  shift 4
  # An IPv6 address on the bridge lets dnsmasq send router advertisements (ra-only: no DHCPv6).
  in_ns ip -6 addr replace fd77::1/64 dev br0 nodad
  exec ip netns exec "$ns" dnsmasq --no-daemon --conf-file=/dev/null --interface=br0 --bind-interfaces \
    --port=0 --leasefile-ro --no-ping --dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h \
    --dhcp-boot="$boot" --enable-tftp --tftp-root="$root" \
    --dhcp-option-force=60,PXEClient --enable-ra --dhcp-range=fd77::,ra-only,64,1h "$@"
  ;;
down)
  if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
    # Deleting the namespace deletes the bridge and taps in it.
    ip netns del "$ns"
  fi
  ;;
*)
  usage
  ;;
esac

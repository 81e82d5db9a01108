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
#        tools/netbed.sh down NS
#          deletes NS and everything in it (safe when it does not exist)
# Run the hosts inside it: ip netns exec NS tools/run-bochs.sh ...
# with the e1000 line ethmod=tuntap, ethdev=/dev/net/tun:tapN. Needs root.
set -euo pipefail

usage() { echo "usage: $0 up NS [TAPS] [BRIDGE_ADDR] | tap NS tapN | down NS" >&2; exit 2; }
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

#!/bin/sh
# Profiles one migration of the line-rate program and one iperf3 transfer on the same path (loopback in a
# namespace of its own, through the delay relay), system-wide with perf, and says where each one's CPU
# time goes per GiB moved: copies, checksums and digests, MACs, syscalls, the TCP/IP stack
# (tools/perf-categories.py). The difference between the two is the gap to iperf3.
# usage: tools/linerate-profile.sh [CONNS [MEM_MIB [DELAY_MS]]]   (as root; needs perf: linux-perf)
# Output: build/bench/profile/ (perf data, reports, one JSON per contender).
set -eu
cd "$(dirname "$0")/.."

CONNS=${1:-1}
MEM_MIB=${2:-2048}
DELAY=${3:-0}
PROG=${LINERATE_PROG:-build/linerate/ferry-migrate}
RELAY=build/tools/relay
OUT=build/bench/profile
PERIOD_NS=250000 # one cpu-clock sample per 250 us of CPU time: samples convert to seconds
IPERF_S=${IPERF_S:-3}
COMM=$(basename "$PROG" | cut -c1-15) # the kernel's name of the program's threads
NS=lrprof$$

for f in "$PROG" "$RELAY"; do
	[ -x "$f" ] || { echo "linerate-profile: $f is missing (make $f)" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "linerate-profile: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$OUT"

cleanup() {
	for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }

# wait_listen PORT: until a socket in the namespace listens on PORT.
wait_listen() {
	for _ in $(seq 200); do
		in_ns ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	echo "linerate-profile: nothing listens on $1" >&2
	exit 1
}

# profile LABEL CMD...: records the whole machine while CMD runs (other processes are filtered out later).
profile() {
	label=$1
	shift
	perf record -q -a -g -k CLOCK_MONOTONIC -e cpu-clock -c "$PERIOD_NS" -o "$OUT/$label.data" -- "$@" \
		>"$OUT/$label.out" 2>&1
}

json_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# Ours: receiver, relay, then the sender under perf.
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$OUT/secret"
in_ns "$PROG" recv --listen 127.0.0.1:7100 --connections "$CONNS" --secret-file "$OUT/secret" \
	--mem "${MEM_MIB}M" --json "$OUT/recv.json" >"$OUT/recv.log" 2>&1 &
recv_pid=$!
wait_listen 7100
in_ns "$RELAY" --listen 127.0.0.1:7101 --to 127.0.0.1:7100 --delay-ms "$DELAY" >"$OUT/relay-ours.log" 2>&1 &
wait_listen 7101
profile ours ip netns exec "$NS" "$PROG" send --to 127.0.0.1:7101 --connections "$CONNS" --secret-file "$OUT/secret" \
	--mem "${MEM_MIB}M" --pattern none --json "$OUT/send.json"
wait "$recv_pid" || { echo "linerate-profile: the receiver failed (see $OUT/recv.log)" >&2; exit 1; }
echo "linerate-profile: the receiver was pid $recv_pid, the sender the other $COMM"
ours_bytes=$(json_field "$OUT/send.json" "d.get('bytes') or d.get('bytes_sent')")
# The migration's own span (the sender reports it on CLOCK_MONOTONIC, the recording's clock): its memory
# fill before and both sides' verification after stay out of the figures.
span=$(json_field "$OUT/send.json" "'%.6f,%.6f' % (d['mono_begin_us'] / 1e6, d['mono_end_us'] / 1e6)")

# iperf3: a one-off server, relay, then the client under perf, with ours' TCP congestion control.
cc=$(json_field "$OUT/send.json" "d.get('congestion') or ''")
in_ns iperf3 -s -1 -p 5201 >"$OUT/iperf3-s.log" 2>&1 &
wait_listen 5201
in_ns "$RELAY" --listen 127.0.0.1:5202 --to 127.0.0.1:5201 --delay-ms "$DELAY" >"$OUT/relay-iperf3.log" 2>&1 &
wait_listen 5202
profile iperf3 ip netns exec "$NS" iperf3 -c 127.0.0.1 -p 5202 -P "$CONNS" -t "$IPERF_S" -J ${cc:+-C "$cc"}
iperf_bytes=$(json_field "$OUT/iperf3.out" "d['end']['sum_received']['bytes']")

tools/perf-categories.py --time="$span" "$OUT/ours.data" "$PERIOD_NS" "$ours_bytes" "ours ($CONNS conn, $DELAY ms)" \
	"$COMM,relay" "$OUT/ours.json" | tee "$OUT/report.txt"
tools/perf-categories.py "$OUT/iperf3.data" "$PERIOD_NS" "$iperf_bytes" "iperf3 ($CONNS streams, $DELAY ms)" \
	iperf3,relay "$OUT/iperf3.json" | tee -a "$OUT/report.txt"
# The symbols themselves, for what the categories do not explain.
perf report -i "$OUT/ours.data" --stdio --no-children -g none --sort pid,dso,sym --comms "$COMM" --time "$span" 2>/dev/null |
	grep -E '^ +[0-9]' | head -40 >"$OUT/ours-top.txt" || true
echo "linerate-profile: reports in $OUT (report.txt, ours-top.txt)"

#!/usr/bin/env bash
# Draws each simulated scenario's timelines (sim -t writes DIR/<scenario>.csv):
# one PNG per scenario, four panels (bytes remaining, dirty rate, throttle,
# bandwidth against time), one line per policy.
#   tools/sim-plot.sh DIR
set -euo pipefail

dir=${1:?usage: sim-plot.sh DIR}
command -v gnuplot >/dev/null || { echo "sim-plot: gnuplot is missing (make deps)" >&2; exit 1; }

plot_one() {
  local csv=$1 png=${1%.csv}.png name i=0 policies=() panel
  name=$(basename "${csv%.csv}")
  mapfile -t policies < <(sed -n 's/^# //p' "$csv")
  {
    echo "set terminal pngcairo size 1400,900 font ',10' noenhanced"
    echo "set output '$png'"
    echo "set multiplot layout 2,2 title '$name'"
    echo "set grid; set key top right; set xlabel 'time (s)'"
    for panel in "2:GB remaining:1e9" "3:dirty rate (MB/s):1e6" "4:throttle (%, most throttled vCPU):1" \
                 "5:bandwidth (Gb/s):125e6"; do
      IFS=: read -r col label scale <<<"$panel"
      echo "set ylabel '$label'"
      printf 'plot'
      i=0
      for p in "${policies[@]}"; do
        [ "$i" -gt 0 ] && printf ','
        printf " '%s' index %d using 1:(\$%s/%s) with steps lw 1.5 title '%s'" "$csv" "$i" "$col" "$scale" "$p"
        i=$((i + 1))
      done
      echo
    done
    echo "unset multiplot"
  } | gnuplot 2>&1 | { grep -v 'empty y range' >&2 || true; }
}

n=0
for csv in "$dir"/*.csv; do
  [ -e "$csv" ] || continue
  plot_one "$csv"
  n=$((n + 1))
done
echo "  PLOT    $n timelines in $dir"

#!/usr/bin/env bash
# Draws each migration's timeline (tests/bench/bench_migration.py writes DIR/<run>.csv with the
# columns t_s, remaining_bytes, dirty_pages_s, throttle_pct, bandwidth_bytes_s, from the sender's
# console progress lines; time is the sender's clock since the migration started): one PNG per
# run, four panels against time.
#   tools/migr-plot.sh DIR
set -euo pipefail

dir=${1:?usage: migr-plot.sh DIR}
command -v gnuplot >/dev/null || { echo "migr-plot: gnuplot is missing (make deps)" >&2; exit 1; }

plot_one() {
  local csv=$1 png=${1%.csv}.png name panel
  name=$(basename "${csv%.csv}")
  {
    echo "set terminal pngcairo size 1400,900 font ',10' noenhanced"
    echo "set output '$png'"
    echo "set datafile separator ','"
    echo "set multiplot layout 2,2 title '$name (sender clock, emulated)'"
    echo "set grid; set key off; set xlabel 'time since the start (s)'; set yrange [0:*]"
    for panel in "2:KiB remaining:1024" "3:dirty rate (pages/s):1" "4:throttle (%):1" "5:bandwidth (KiB/s):1024"; do
      IFS=: read -r col label scale <<<"$panel"
      echo "set ylabel '$label'"
      echo "plot '$csv' skip 1 using 1:(\$$col/$scale) with linespoints lw 1.5 pt 7 ps 0.6"
    done
    echo "unset multiplot"
  } | gnuplot 2>&1 | { grep -v 'empty y range' >&2 || true; }
}

shopt -s nullglob
csvs=("$dir"/*.csv)
for csv in "${csvs[@]}"; do plot_one "$csv"; done
echo "  PLOT    ${#csvs[@]} migration timelines in $dir"

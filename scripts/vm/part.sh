# Sourced by the lanes that run inside the VM (lane_inside.sh,
# systemd_lane_inside.sh): part LABEL FILE... runs `deno test` on the files,
# with its log in the results share (the host can follow a part while it
# runs), prints "LABEL: N passed, N failed, N skipped (T s)" and adds the
# counts to tp, tf, ts. PART_FILTER, else OCIMON_VM_FILTER: deno test --filter.
tp=0 tf=0 ts=0
part() {
  label=$1
  shift
  log=${OCIMON_VM_OUT:-/tmp}/$label.log
  start=$(date +%s)
  filter=${PART_FILTER:-${OCIMON_VM_FILTER:-}}
  deno test --allow-all --no-config --quiet ${filter:+--filter "$filter"} "$@" >"$log" 2>&1
  rc=$?
  cat "$log"
  line=$(grep -E '^(ok|FAILED) \| ' "$log" | tail -1)
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+'); p=${p:-0}
  f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+'); f=${f:-0}
  s=$(echo "$line" | grep -oE '[0-9]+ ignored' | grep -oE '[0-9]+'); s=${s:-0}
  [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
  echo "$label: $p passed, $f failed, $s skipped ($(($(date +%s) - start)) s)"
  tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
}

# Sourced by the lanes that run inside the VM (lane_inside.sh,
# systemd_lane_inside.sh): part LABEL FILE... runs `deno test` on the files,
# with its log in the results share (the host can follow a part while it
# runs), prints "LABEL: N passed, N failed, N skipped (T s)" and adds the
# counts to tp, tf, ts (scripts/lane_summary.sh; lane_total prints them).
# PART_FILTER, else OCIMON_VM_FILTER: deno test --filter.
# --no-check: the lane runners (scripts/vm_lane.sh, scripts/systemd_lane.sh)
# type-check these files on the host before the VM boots (seconds there);
# in the VM each part's first check took 55 to 85 s under TCG, every boot.
. scripts/lane_summary.sh
part() {
  label=$1
  shift
  log=${OCIMON_VM_OUT:-/tmp}/$label.log
  start=$(date +%s)
  filter=${PART_FILTER:-${OCIMON_VM_FILTER:-}}
  deno test --allow-all --no-config --no-check --quiet ${filter:+--filter "$filter"} "$@" >"$log" 2>&1
  rc=$?
  cat "$log"
  lane_summary "$label" "$rc" "$log" "" "($(($(date +%s) - start)) s)"
}

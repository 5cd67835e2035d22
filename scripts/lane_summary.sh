# Sourced by every lane runner (scripts/test.sh, scripts/systemd_lane.sh and,
# through scripts/vm/part.sh, the scripts that run inside the VM): one closing
# line for every lane and part, and the running totals. POSIX sh: the VM runs
# its scripts with the host's /bin/sh.
#
# lane_summary LABEL RC LOG [NESTED [NOTE]]
#   LOG is the runner's output, RC its exit status. The counts come from the
#   last deno test summary in LOG ("ok | N passed | N failed | N ignored"),
#   or, with NESTED, from its last "NESTED: N passed, N failed, N skipped"
#   line (a lane that runs lanes of its own: vm-total, systemd-total).
#   Prints "LABEL: N passed, N failed, N skipped[ NOTE]", adds the counts to
#   tp, tf and ts, and returns 1 if anything failed. A runner that died
#   without a summary (or exited non-zero with none failed) counts as one
#   failure.
# lane_total LABEL prints the totals as "LABEL: N passed, N failed, N
# skipped" and returns 1 if anything failed.
tp=0 tf=0 ts=0
lane_summary() {
  _ls_line=
  if [ -n "${4:-}" ]; then
    _ls_line=$(grep -E "^$4: " "$3" | tail -1)
  else
    _ls_line=$(grep -E '^(ok|FAILED) \| ' "$3" | tail -1)
  fi
  lane_p=$(_lane_count "$_ls_line" passed)
  lane_f=$(_lane_count "$_ls_line" failed)
  lane_s=$(_lane_count "$_ls_line" 'ignored|skipped')
  if [ "$2" != 0 ] && [ "$lane_f" = 0 ]; then lane_f=1; fi
  echo "$1: $lane_p passed, $lane_f failed, $lane_s skipped${5:+ $5}"
  tp=$((tp + lane_p)) tf=$((tf + lane_f)) ts=$((ts + lane_s))
  [ "$lane_f" = 0 ]
}

lane_total() {
  echo "$1: $tp passed, $tf failed, $ts skipped"
  [ "$tf" = 0 ]
}

# _lane_count LINE WORD: the number before WORD in LINE ("3 passed"), else 0.
_lane_count() {
  _lc=$(printf '%s\n' "$1" | grep -oE "[0-9]+ ($2)" | head -1 | grep -oE '^[0-9]+')
  echo "${_lc:-0}"
}

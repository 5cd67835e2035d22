#!/usr/bin/env bash
# Installs what is missing, then runs every test lane (or the lanes named).
# The lanes are the table below; `bash scripts/test.sh --help` prints it.
# Each lane ends with "LANE: N passed, N failed, N skipped"; the last line
# adds them up. Exit status is non-zero if any lane failed.
#
# Environment: OCIMON_BIN (the monitor under test, default bin/ocimon; the
# -conmon lanes set /usr/bin/conmon), OCIMON_TEST_RUNTIME (runc|crun),
# OCIMON_SKIP_SETUP=1, OCIMON_VM_FULL=1 (every VM part with every runtime;
# by default runc runs only the cgroup-dependent parts there).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NO_COLOR=1
export OCIMON_BIN=${OCIMON_BIN:-$root/bin/ocimon}
. scripts/lane_summary.sh

# The lanes, in the order they run by default: name, what it tests, and the
# command that runs it (deno_lane and nested_lane are below).
lane_names=()
declare -A lane_what=() lane_command=()
add_lane() { lane_names+=("$1") lane_what[$1]=$2 lane_command[$1]=$3; }
add_lane unit "module tests: fake cgroupfs trees, pipes, real child processes" \
  'deno_lane unit tests/cli tests/cgroup tests/io tests/monitor tests/oom tests/status tests/sys tests/reaper tests/util tests/runtime tests/env_test.ts tests/diag_test.ts'
add_lane host "integration: real runc containers on this host's cgroups" \
  'deno_lane host tests/integration'
add_lane faults "faults injected: stdin floods, a writer outliving the container, a runtime \
killed in create, a bad pidfile path, a stalled attach client, a 16 MiB monitor cgroup \
(tests/faults)" \
  'deno_lane faults tests/faults'
add_lane faults-conmon "the same with conmon 2.1.6, the control (less log_write_test.ts, \
which runs its conmon control itself, in the faults lane)" \
  'OCIMON_BIN=/usr/bin/conmon deno_lane faults-conmon $(ls tests/faults/*_test.ts | grep -v /log_write_test.ts)'
add_lane journald "the journald log driver against a journald of its own \
(scripts/with_journald.sh)" \
  'LANE_WRAP=scripts/with_journald.sh deno_lane journald tests/journald'
add_lane journald-conmon "the same tests with conmon, less what only ocimon has (and less \
unit_record_test.ts, which runs no monitor)" \
  'OCIMON_BIN=/usr/bin/conmon LANE_WRAP=scripts/with_journald.sh deno_lane journald-conmon $(ls tests/journald/*_test.ts | grep -v /unit_record_test.ts)'
add_lane podman "podman 4.3 itself with ocimon as its monitor (runc, this host's cgroups)" \
  'deno_lane podman tests/podman'
add_lane podman-conmon "the same tests with conmon, proving they test podman's contract" \
  'OCIMON_BIN=/usr/bin/conmon deno_lane podman-conmon tests/podman'
add_lane crio "ocimon driven as CRI-O's source drives its monitor (tests/support/crio.ts)" \
  'deno_lane crio tests/crio'
add_lane crio-conmon "the same tests with conmon 2.1.6, the control" \
  'OCIMON_BIN=/usr/bin/conmon deno_lane crio-conmon tests/crio'
add_lane vm "the host lane again inside a cgroup v2 VM, with runc and crun \
(scripts/vm_lane.sh)" \
  'nested_lane vm scripts/vm_lane.sh vm-total'
add_lane systemd "podman's stock configuration (systemd cgroups, journald), -s, rootless, \
in the VM with systemd as PID 1, on Debian 12, 13 and sid (scripts/systemd_lane.sh)" \
  'nested_lane systemd scripts/systemd_lane.sh systemd-total'

usage() {
  echo "usage: bash scripts/test.sh [LANE...]  (no LANE: every lane, in this order)"
  for name in "${lane_names[@]}"; do
    fold -s -w 60 <<<"${lane_what[$name]}" | sed 's/ *$//' |
      sed "1s/^/$(printf '  %-17s' "$name")/; 2,\$s/^/$(printf '%19s' '')/"
  done
}
case ${1:-} in -h | --help) usage; exit 0 ;; esac

[ "${OCIMON_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh || exit 1

lanes=("$@")
[ ${#lanes[@]} -gt 0 ] || lanes=("${lane_names[@]}")
failed_lanes=()

# deno_lane LANE PATH...: `deno test` on the paths, then the lane's closing
# line. LANE_WRAP, if set, is a command that runs deno (scripts/with_journald.sh).
deno_lane() {
  local lane=$1 out rc
  shift
  out=$(mktemp)
  ${LANE_WRAP:-} deno test --allow-all --no-config --quiet "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  lane_summary "$lane" "$rc" "$out" || failed_lanes+=("$lane")
  rm -f "$out"
}

# nested_lane LANE SCRIPT TOTAL: a lane that runs parts of its own and adds
# them up in a "TOTAL: N passed, N failed, N skipped" line.
nested_lane() {
  local lane=$1 out rc
  out=$(mktemp)
  bash "$2" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  lane_summary "$lane" "$rc" "$out" "$3" || failed_lanes+=("$lane")
  rm -f "$out"
}

for lane in "${lanes[@]}"; do
  echo "=== lane: $lane"
  if [ -n "$lane" ] && [ -n "${lane_command[$lane]+set}" ]; then
    eval "${lane_command[$lane]}"
  else
    printf -v known '%s, ' "${lane_names[@]}"
    echo "unknown lane '$lane' (${known%, })"
    failed_lanes+=("$lane") tf=$((tf + 1))
  fi
done

lane_total "all lanes"
[ ${#failed_lanes[@]} -eq 0 ] || { echo "failed lanes: ${failed_lanes[*]}"; exit 1; }

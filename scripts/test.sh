#!/usr/bin/env bash
# Installs what is missing, then runs every test lane (or the lanes named):
#   unit   module tests: fake cgroupfs trees, pipes, real child processes
#   host   integration: real runc containers on this host's cgroups
#   faults faults injected: stdin floods, a writer outliving the container, a
#          runtime killed in create, a bad pidfile path, a stalled attach
#          client, a 16 MiB monitor cgroup (tests/faults)
#   faults-conmon  the same with conmon 2.1.6, the control
#   podman podman 4.3 itself with ocimon as its monitor (runc, this host's cgroups)
#   podman-conmon  the same tests with conmon, proving they test podman's contract
#   crio   ocimon driven as CRI-O's source drives its monitor (tests/crio/driver.ts)
#   crio-conmon    the same tests with conmon 2.1.6, the control
#   journald  the journald log driver against a journald of its own (scripts/with_journald.sh)
#   journald-conmon  the same tests with conmon, less what only ocimon has
#   vm     the host lane again inside a cgroup v2 VM, with runc and crun
#   systemd  podman's stock configuration (systemd cgroups, journald), -s,
#          rootless, in the VM with systemd as PID 1, on Debian 12 and 13
# Each lane ends with "LANE: N passed, N failed, N skipped"; the last line
# adds them up. Exit status is non-zero if any lane failed.
#
# Environment: OCIMON_BIN (binary under test, default bin/ocimon),
# OCIMON_TEST_RUNTIME (runc|crun), OCIMON_SKIP_SETUP=1, OCIMON_VM_FULL=1 (every VM part
# with every runtime; by default runc runs only the cgroup-dependent parts there).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NO_COLOR=1
export OCIMON_BIN=${OCIMON_BIN:-$root/bin/ocimon}

[ "${OCIMON_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh || exit 1

lanes=("$@")
[ ${#lanes[@]} -gt 0 ] || lanes=(unit host faults faults-conmon journald journald-conmon podman podman-conmon crio crio-conmon vm systemd)

total_pass=0 total_fail=0 total_skip=0 failed_lanes=()

# Runs `deno test` on the given paths and prints the lane's closing line.
# LANE_WRAP, if set, is a command that runs deno (scripts/with_journald.sh).
deno_lane() {
  local lane=$1
  shift
  local out rc
  out=$(mktemp)
  ${LANE_WRAP:-} deno test --allow-all --no-config --quiet "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  summarize "$lane" "$rc" "$(grep -E '^(ok|FAILED) \| ' "$out" | tail -1)"
  rm -f "$out"
}

# summarize LANE RC "ok | N passed | N failed | N ignored (…)"
summarize() {
  local lane=$1 rc=$2 line=$3 p f s
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  s=$(grep -oE '[0-9]+ (ignored|skipped)' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  # A runner that died before its summary counts as a failure.
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  echo "$lane: $p passed, $f failed, $s skipped"
  total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
  [ "$f" = 0 ] || failed_lanes+=("$lane")
}

for lane in "${lanes[@]}"; do
  echo "=== lane: $lane"
  case $lane in
    unit) deno_lane unit tests/diag_test.ts tests/cli tests/cgroup tests/io tests/runtime tests/status tests/sys tests/reaper tests/util ;;
    host) deno_lane host tests/integration ;;
    faults) deno_lane faults tests/faults ;;
    # log_write_test.ts runs its conmon control itself, in the faults lane.
    faults-conmon)
      OCIMON_FAULTS_MONITOR=/usr/bin/conmon deno_lane faults-conmon \
        $(ls tests/faults/*_test.ts | grep -v /log_write_test.ts)
      ;;
    podman) deno_lane podman tests/podman ;;
    podman-conmon) OCIMON_PODMAN_MONITOR=/usr/bin/conmon deno_lane podman-conmon tests/podman ;;
    crio) deno_lane crio tests/crio ;;
    crio-conmon) OCIMON_CRIO_MONITOR=/usr/bin/conmon deno_lane crio-conmon tests/crio ;;
    journald) LANE_WRAP=scripts/with_journald.sh deno_lane journald tests/journald ;;
    journald-conmon)
      OCIMON_BIN=/usr/bin/conmon LANE_WRAP=scripts/with_journald.sh deno_lane journald-conmon tests/journald
      ;;
    vm)
      out=$(mktemp)
      bash scripts/vm_lane.sh 2>&1 | tee "$out"
      rc=${PIPESTATUS[0]}
      summarize vm "$rc" "$(grep -E '^vm-total: ' "$out" | tail -1)"
      rm -f "$out"
      ;;
    systemd)
      out=$(mktemp)
      bash scripts/systemd_lane.sh 2>&1 | tee "$out"
      rc=${PIPESTATUS[0]}
      summarize systemd "$rc" "$(grep -E '^systemd-total: ' "$out" | tail -1)"
      rm -f "$out"
      ;;
    *) echo "unknown lane '$lane' (unit, host, faults, faults-conmon, journald, journald-conmon, podman, podman-conmon, crio, crio-conmon, vm, systemd)"; failed_lanes+=("$lane"); total_fail=$((total_fail + 1)) ;;
  esac
done

echo "all lanes: $total_pass passed, $total_fail failed, $total_skip skipped"
[ ${#failed_lanes[@]} -eq 0 ] || { echo "failed lanes: ${failed_lanes[*]}"; exit 1; }

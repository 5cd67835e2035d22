#!/bin/sh
# Runs inside the VM with systemd as PID 1 (see scripts/systemd_lane.sh):
# for each runtime and each monitor (ocimon, then conmon as the control),
# the podman lane with podman's stock configuration plus what a systemd host
# adds (tests/systemd/podman_test.ts, and podman58_test.ts, which skips
# itself before podman 5.8; stock_test.ts, journald_test.ts,
# sdnotify_test.ts; with podman 5 quadlet_test.ts; checkpoint_test.ts on sid,
# podman container checkpoint/restore with CRIU, which skips itself where
# `criu check` fails or criu is missing: it runs on sid), the monitor with -s and
# a systemd cgroupsPath (cgroup_test.ts), CRI-O's systemd cgroups
# (tests/crio, that test alone); then rootless podman (rootless_test.ts),
# with the root's stock runtime (the first of
# OCIMON_SYSTEMD_CONTROL_RUNTIMES, else of OCIMON_VM_RUNTIMES).
# OCIMON_SYSTEMD_CONTROL_RUNTIMES=none: conmon does not run at all.
# One closing line per part, then a total.
# CI budget: the control (conmon) runs with the runtimes in
# OCIMON_SYSTEMD_CONTROL_RUNTIMES (default runc) only: the contract between
# podman and its monitor does not depend on the runtime, and ocimon itself
# runs with every runtime. 3 podman OOM kills per run here (10 in the podman
# and vm lanes): each costs ~30 s under TCG.
cd "$(dirname "$0")/../.."
export NO_COLOR=1 OCIMON_TEST_TMP=/tmp/ocimon-tests
export OCIMON_PODMAN_OOM_RUNS=${OCIMON_PODMAN_OOM_RUNS:-3} OCIMON_OOM_RUNS=${OCIMON_OOM_RUNS:-3}
root=${OCIMON_SYSTEMD_ROOT:-host}
runtimes=${OCIMON_VM_RUNTIMES:-runc crun}
monitors=${OCIMON_SYSTEMD_MONITORS:-ocimon conmon}
control_runtimes=${OCIMON_SYSTEMD_CONTROL_RUNTIMES:-runc}
[ "$control_runtimes" = none ] && control_runtimes=
parts=${OCIMON_SYSTEMD_PARTS:-podman stock cgroup crio rootless}
# The parts each runtime runs with ocimon (OCIMON_SYSTEMD_PARTS_RUNC,
# OCIMON_SYSTEMD_PARTS_CRUN) and conmon runs (OCIMON_SYSTEMD_CONTROL_PARTS),
# where the lane narrows them (scripts/systemd_lane.sh); else every part.
parts_for() {
  if [ "$2" = conmon ]; then echo "${OCIMON_SYSTEMD_CONTROL_PARTS:-$parts}"; return; fi
  case $1 in
    runc) echo "${OCIMON_SYSTEMD_PARTS_RUNC:-$parts}" ;;
    crun) echo "${OCIMON_SYSTEMD_PARTS_CRUN:-$parts}" ;;
    *) echo "$parts" ;;
  esac
}
. scripts/vm/part.sh

monitor_bin() { [ "$1" = conmon ] && echo /usr/bin/conmon || echo "$PWD/bin/ocimon"; }

[ "$(cat /proc/1/comm)" = systemd ] || { echo "systemd lane: PID 1 is not systemd"; exit 1; }
# Quadlet came with podman 4.4: Debian 13's and sid's podman 5 have it,
# Debian 12's 4.3 not (the test fails, rather than skips, where it is asked
# for and missing).
quadlet=; case $root in debian13 | sid) quadlet=tests/systemd/quadlet_test.ts ;; esac
# CRIU is in the sid root alone (scripts/vm.sh): checkpoint/restore runs there.
checkpoint=; case $root in sid) checkpoint=tests/systemd/checkpoint_test.ts ;; esac
echo "systemd lane on $root: $(systemctl --version | head -1), $(podman --version), $(conmon --version | head -1)"
for rt in $runtimes; do
  for mon in $monitors; do
    if [ "$mon" = conmon ]; then
      case " $control_runtimes " in *" $rt "*) ;; *) continue ;; esac
    fi
    bin=$(monitor_bin "$mon")
    for what in $(parts_for "$rt" "$mon"); do
      case $what in
        podman) OCIMON_TEST_RUNTIME=$rt OCIMON_BIN=$bin part "systemd-$root-podman-$rt-$mon" \
          tests/systemd/podman_test.ts tests/systemd/podman58_test.ts $checkpoint ;;
        stock) OCIMON_TEST_RUNTIME=$rt OCIMON_BIN=$bin part "systemd-$root-stock-$rt-$mon" \
          tests/systemd/stock_test.ts tests/systemd/journald_test.ts tests/systemd/sdnotify_test.ts \
          tests/systemd/socket_activation_test.ts $quadlet ;;
        crio) OCIMON_TEST_RUNTIME=$rt OCIMON_BIN=$bin PART_FILTER=cgroup_manager=systemd \
          part "systemd-$root-crio-$rt-$mon" tests/crio/crio_test.ts ;;
        cgroup) OCIMON_TEST_RUNTIME=$rt OCIMON_BIN=$bin part "systemd-$root-cgroup-$rt-$mon" tests/systemd/cgroup_test.ts ;;
        # The OOM verdict and its victims on this root's own kernel (sid's
        # newest), the monitor driven directly on cgroupfs. ocimon's alone:
        # conmon names no victims.
        kernel) [ "$mon" = conmon ] && continue
          OCIMON_TEST_RUNTIME=$rt OCIMON_BIN=$bin part "systemd-$root-kernel-$rt-$mon" \
            tests/integration/oom_test.ts tests/cgroup_v2/cgroup_v2_test.ts ;;
      esac
    done
  done
done
rootless_rt=${control_runtimes:-$runtimes}
case " $parts " in *" rootless "*)
  for mon in $monitors; do
    [ "$mon" = conmon ] && [ -z "$control_runtimes" ] && continue
    OCIMON_TEST_RUNTIME=${rootless_rt%% *} OCIMON_BIN=$(monitor_bin "$mon") \
      part "systemd-$root-rootless-$mon" tests/systemd/rootless_test.ts
  done ;;
esac
lane_total "systemd-$root-total"

#!/bin/sh
# Runs inside the cgroup v2 VM (see scripts/vm_lane.sh): the host
# integration tests, the cgroup v2 tests, the podman lane and the crio lane,
# once per runtime; one closing line per part and a total.
cd "$(dirname "$0")/../.."
export NO_COLOR=1 OCIMON_TEST_TMP=/tmp/ocimon-tests
export OCIMON_OOM_RUNS=${OCIMON_OOM_RUNS:-10} OCIMON_PODMAN_OOM_RUNS=${OCIMON_PODMAN_OOM_RUNS:-10}
runtimes=${OCIMON_VM_RUNTIMES:-runc crun}
parts=${OCIMON_VM_PARTS:-host cgroup_v2 podman crio}
. scripts/vm/part.sh
# As scripts/setup.sh on an installed host: Deno's transpile cache warm (the
# VM's /root is a fresh tmpfs), so that no monitor transpiles ocimon's source
# itself; one that does peaks near 19 MiB, past the monitor cgroup's floor.
deno cache --quiet --no-config src/main.ts

grep -q cgroup2 /proc/self/mountinfo && ! grep -q ' - cgroup ' /proc/self/mountinfo ||
  { echo "vm: not a pure cgroup v2 guest"; exit 1; }
# CI budget: crun, which cannot create containers on the hybrid-cgroup host,
# runs every part here: every test with ocimon on cgroup v2 with cgroupfs.
# runc runs every integration, podman and crio test on the host lanes (cgroup
# v1), and on cgroup v2 in the systemd lane on sid (the podman parts, and the
# OOM and victims tests in its kernel part); here it runs the
# cgroup v2 tests alone, which hold what only runc does (its init OOM-killed
# in create). OCIMON_VM_FULL=1 runs every part with every runtime.
trimmed() { [ "${OCIMON_VM_FULL:-}" != 1 ] && [ "$1" = runc ]; }
for rt in $runtimes; do
  for what in $parts; do
    case $what in
      host)
        if trimmed "$rt"; then
          echo "vm: host-$rt left out (the host lanes run it on cgroup v1, the systemd lane's kernel part on sid the OOM tests on v2; OCIMON_VM_FULL=1 runs it here)"
        else
          OCIMON_TEST_RUNTIME=$rt part "vm-host-$rt" tests/integration
        fi
        ;;
      # The monitor's own memory cgroup (the 20 MiB floor) on v2, where the
      # kernel charges more to it than v1 does, with each runtime.
      cgroup_v2) OCIMON_TEST_RUNTIME=$rt part "vm-cgroup-v2-$rt" tests/cgroup_v2 tests/faults/monitor_cgroup_test.ts ;;
      podman)
        if trimmed "$rt"; then
          echo "vm: podman-$rt left out (the podman lane runs it on cgroup v1, the systemd lane on sid on v2; OCIMON_VM_FULL=1 runs it here)"
        else
          OCIMON_TEST_RUNTIME=$rt part "vm-podman-$rt" tests/podman
        fi
        ;;
      crio)
        if trimmed "$rt"; then
          echo "vm: crio-$rt left out (the crio lane runs it on the host; OCIMON_VM_FULL=1 runs it here)"
        else
          OCIMON_TEST_RUNTIME=$rt part "vm-crio-$rt" tests/crio
        fi
        ;;
    esac
  done
done
lane_total vm-total

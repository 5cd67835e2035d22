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

grep -q cgroup2 /proc/self/mountinfo && ! grep -q ' - cgroup ' /proc/self/mountinfo ||
  { echo "vm: not a pure cgroup v2 guest"; exit 1; }
# CI budget: crun, which cannot create containers on the hybrid-cgroup host,
# runs every part here. runc runs every integration and crio test on the host
# lanes already (cgroup v1), so here it runs what depends on the cgroup
# version: the lifecycle and OOM integration tests, the cgroup v2 tests and
# podman. OCIMON_VM_FULL=1 runs every part with every runtime.
trimmed() { [ "${OCIMON_VM_FULL:-}" != 1 ] && [ "$1" = runc ]; }
for rt in $runtimes; do
  for what in $parts; do
    case $what in
      host)
        if trimmed "$rt"; then
          OCIMON_TEST_RUNTIME=$rt part "vm-host-$rt" tests/integration/lifecycle_test.ts tests/integration/oom_test.ts
        else
          OCIMON_TEST_RUNTIME=$rt part "vm-host-$rt" tests/integration
        fi
        ;;
      cgroup_v2) OCIMON_TEST_RUNTIME=$rt part "vm-cgroup-v2-$rt" tests/cgroup_v2 ;;
      podman) OCIMON_TEST_RUNTIME=$rt part "vm-podman-$rt" tests/podman ;;
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

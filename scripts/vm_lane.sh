#!/usr/bin/env bash
# The VM lane: scripts/vm/lane_inside.sh inside a cgroup v2 VM (scripts/vm.sh).
# OCIMON_VM_RUNTIMES (default "runc crun") and OCIMON_VM_PARTS (default
# "host cgroup_v2 podman crio") choose what runs, OCIMON_VM_FILTER narrows the tests
# by name (deno test --filter); the guest's output is streamed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export OCIMON_VM_RUNTIMES=${OCIMON_VM_RUNTIMES:-runc crun}
export OCIMON_VM_PARTS=${OCIMON_VM_PARTS:-host cgroup_v2 podman crio}
# The VM runs its tests with --no-check (scripts/vm/part.sh): they are
# type-checked here, in seconds, where TCG takes a minute a part.
checked=0
deno check --quiet --no-config "$root"/tests/{integration,cgroup_v2,podman,crio} ||
  { echo "vm lane: deno check failed (the tests run all the same)"; checked=1; }
# The serial console turns \n into \r\n and the firmware paints the screen: tidy both.
bash "$root/scripts/vm.sh" sh "$root/scripts/vm/lane_inside.sh" 2>&1 |
  tr -d '\r' | sed -u 's/\x1b\[[0-9;?]*[a-zA-Z]//g; /^c*SeaBIOS/d; /^Booting from ROM/d'
rc=${PIPESTATUS[0]}
[ "$rc" != 0 ] || rc=$checked
exit "$rc"

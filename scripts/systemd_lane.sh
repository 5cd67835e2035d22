#!/usr/bin/env bash
# The systemd lane: scripts/vm/systemd_lane_inside.sh in the VM with systemd
# as PID 1 (scripts/vm.sh --systemd), once per root: this machine's (Debian
# 12: podman 4.3, conmon 2.1.6) and Debian 13 (podman 5.4, conmon 2.1.12).
# OCIMON_SYSTEMD_ROOTS (default "host debian13"), OCIMON_VM_RUNTIMES,
# OCIMON_SYSTEMD_MONITORS ("ocimon conmon"),
# OCIMON_SYSTEMD_CONTROL_RUNTIMES (the runtimes conmon runs with),
# OCIMON_SYSTEMD_PARTS ("podman stock cgroup crio rootless") and OCIMON_VM_FILTER
# (deno test --filter) choose what runs. Ends with "systemd-total: …".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/lane_summary.sh"
# CI budget (.ci/run on 2 cores under TCG): ocimon runs with runc and
# crun on both roots; conmon, the control, with one runtime per root (runc
# on Debian 12, crun, Debian 13's default, on Debian 13): the contract
# between podman and its monitor does not change with the runtime, and the
# host lanes run conmon with both.
runtimes_of() { echo runc crun; }
control_of() { case $1 in debian13) echo crun ;; *) echo runc ;; esac; }
for r in ${OCIMON_SYSTEMD_ROOTS:-host debian13}; do
  out=$(mktemp)
  start=$SECONDS
  # The serial console turns \n into \r\n and the firmware paints the screen: tidy both.
  OCIMON_VM_RUNTIMES=${OCIMON_VM_RUNTIMES:-$(runtimes_of "$r")} \
    OCIMON_SYSTEMD_CONTROL_RUNTIMES=${OCIMON_SYSTEMD_CONTROL_RUNTIMES:-$(control_of "$r")} \
    OCIMON_SYSTEMD_PARTS=${OCIMON_SYSTEMD_PARTS:-podman stock cgroup crio rootless} \
    OCIMON_SYSTEMD_ROOT=$r bash "$root/scripts/vm.sh" --systemd --root "$r" \
    sh "$root/scripts/vm/systemd_lane_inside.sh" 2>&1 |
    sed -u 's/\r//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g; /^c*SeaBIOS/d; /^Booting from ROM/d' | tee "$out"
  rc=${PIPESTATUS[0]}
  lane_summary "systemd-$r" "$rc" "$out" "systemd-$r-total" "($((SECONDS - start)) s with boot)"
  rm -f "$out"
done
lane_total systemd-total

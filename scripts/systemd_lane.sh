#!/usr/bin/env bash
# The systemd lane: scripts/vm/systemd_lane_inside.sh in the VM with systemd
# as PID 1 (scripts/vm.sh --systemd), booted once per root, every part in
# that one boot: this machine's root (Debian 12: podman 4.3, conmon 2.1.6),
# Debian 13 (podman 5.4, conmon 2.1.12) and Debian sid (podman 5.8, conmon
# 2.1.13, on sid's own kernel).
# OCIMON_SYSTEMD_ROOTS (default "host debian13 sid"), OCIMON_VM_RUNTIMES,
# OCIMON_SYSTEMD_MONITORS ("ocimon conmon"),
# OCIMON_SYSTEMD_CONTROL_RUNTIMES (the runtimes conmon runs with; "none"),
# OCIMON_SYSTEMD_PARTS ("podman stock cgroup crio rootless") and OCIMON_VM_FILTER
# (deno test --filter) choose what runs; each root has defaults of its own
# (below), and OCIMON_SYSTEMD_FULL=1 runs every part with both runtimes and
# conmon on every root. Ends with "systemd-total: …".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/lane_summary.sh"
# CI budget (.ci/run, under 75 minutes on 2 cores under TCG): each root runs
# what only it can show, and the newest stack most of it. Every systemd test
# runs with ocimon on cgroup v2 with systemd on sid (with runc).
# - sid: ocimon with runc in every part, the kernel part (the OOM verdict and
#   victims on sid's kernel, 7.2) included; with crun the podman part (podman
#   5.8's expectations with Debian's default runtime): crun's stock, cgroup
#   and crio parts run on Debian 13. conmon, the control, runs the parts
#   whose contract is podman's (podman, stock, rootless) with runc: the
#   contract between podman and its monitor does not change with the
#   runtime, and the host lanes run conmon with both. The -s and CRI-O parts
#   test ocimon's own use of systemd cgroups; conmon 2.1.6 is their control
#   in the host lanes.
# - Debian 13: podman 5.4's contract (the podman, stock and rootless parts,
#   Quadlet included) and its runtimes for -s and CRI-O, ocimon with crun
#   (Debian 13's default) alone. No control: conmon runs on sid.
# - Debian 12: what podman 4.3 does differently on a systemd host (the stock
#   part: scopes, journald, sd-notify; rootless), ocimon with runc alone. Its
#   podman part is left out (podman 4.3's tests run in the podman lane on
#   cgroup v1 and the vm lane on cgroup v2, podman with systemd cgroups on
#   the other roots), and so are the cgroup and crio parts, which do not
#   involve podman (they run on Debian 13 and sid), and the control
#   (conmon 2.1.6 is the control of the host lanes).
# OCIMON_SYSTEMD_FULL=1 runs every part with both runtimes and conmon on
# every root; OCIMON_SYSTEMD_PARTS, where given, is what every runtime runs.
runtimes_of() { case $1 in debian13) echo crun ;; host) echo runc ;; *) echo runc crun ;; esac; }
control_of() { case $1 in sid) echo runc ;; *) echo none ;; esac; }
parts_of() { case $1 in host) echo stock rootless ;; sid) echo podman stock cgroup crio rootless kernel ;; *) echo podman stock cgroup crio rootless ;; esac; }
# The parts of a root that only some runtimes (or the control) run: "" is all.
crun_parts_of() { case $1 in sid) echo podman ;; esac; }
control_parts_of() { case $1 in sid) echo podman stock ;; esac; }
if [ "${OCIMON_SYSTEMD_FULL:-}" = 1 ]; then
  runtimes_of() { echo runc crun; }
  control_of() { case $1 in debian13) echo crun ;; *) echo runc ;; esac; }
  parts_of() { echo podman stock cgroup crio rootless kernel; }
  crun_parts_of() { :; }
  control_parts_of() { :; }
fi
if [ -n "${OCIMON_SYSTEMD_PARTS:-}" ]; then
  crun_parts_of() { :; }
  control_parts_of() { :; }
fi
# A root's boot runs every part it has: an hour at most (OCIMON_VM_TIMEOUT;
# sid runs ten parts in one boot), against a hang.
# The VM runs its tests with --no-check (scripts/vm/part.sh): they are
# type-checked here, in seconds, where TCG takes a minute a part.
if ! deno check --quiet --no-config "$root"/tests/{systemd,podman,crio,integration,cgroup_v2}; then
  echo "systemd-typecheck: 0 passed, 1 failed, 0 skipped (deno check; the tests run all the same)"
  tf=$((tf + 1))
fi
# sid's kernel (7.2) under qemu's multi-threaded TCG died in four boots of
# four on 2026-12-07 evening (after running whole earlier that day): `Oops:
# int3` in the page allocator, on the NOP of a text-patching site, while
# podman or a monitor took a page, 56 to 337 s in. An int3 met while another
# vCPU patches kernel text is what TCG's cross-vCPU code modification can
# produce; with one vCPU the same podman part ran whole (16/0, 454 s against
# 288-393 s with two). So sid boots with one vCPU (OCIMON_VM_CPUS overrides).
cpus_of() { case $1 in sid) echo 1 ;; *) echo 2 ;; esac; }
# boot_root ROOT OUT: one boot of ROOT running its parts, the console tidied into OUT.
boot_root() {
  local r=$1 out=$2
  # The serial console turns \n into \r\n, the firmware paints the screen, and
  # systemd (262 on sid) queries the terminal and marks its contexts (OSC 3008): tidy them all.
  OCIMON_VM_RUNTIMES=${OCIMON_VM_RUNTIMES:-$(runtimes_of "$r")} \
    OCIMON_SYSTEMD_CONTROL_RUNTIMES=${OCIMON_SYSTEMD_CONTROL_RUNTIMES:-$(control_of "$r")} \
    OCIMON_SYSTEMD_PARTS=${OCIMON_SYSTEMD_PARTS:-$(parts_of "$r")} \
    OCIMON_SYSTEMD_PARTS_CRUN=$(crun_parts_of "$r") \
    OCIMON_SYSTEMD_CONTROL_PARTS=$(control_parts_of "$r") \
    OCIMON_VM_TIMEOUT=${OCIMON_VM_TIMEOUT:-3600} \
    OCIMON_VM_CPUS=${OCIMON_VM_CPUS:-$(cpus_of "$r")} \
    OCIMON_SYSTEMD_ROOT=$r bash "$root/scripts/vm.sh" --systemd --root "$r" \
    sh "$root/scripts/vm/systemd_lane_inside.sh" 2>&1 |
    sed -u 's/\r//g; s/\x1b[]P][^\x07\x1b]*\(\x07\|\x1b\\\)//g; s/\x1b\[[0-9;?!]*[a-zA-Z]//g; s/\x1b[78c]//g; /^c*SeaBIOS/d; /^Booting from ROM/d' |
    tee "$out"
  return "${PIPESTATUS[0]}"
}
for r in ${OCIMON_SYSTEMD_ROOTS:-host debian13 sid}; do
  out=$(mktemp)
  start=$SECONDS
  boot_root "$r" "$out"
  rc=$?
  # Under TCG a guest kernel can die on its own: sid's 7.2 once hit an int3 in
  # get_page_from_freelist (a text-patching site) during the first podman
  # command. A VM that stopped without an exit status before any part ended
  # has tested nothing; it is booted once more, and the log says so. A crash
  # after a part has ended stays a failure.
  if grep -q '^vm: the VM stopped without an exit status' "$out" &&
    ! grep -qE "^systemd-$r-[a-z0-9-]+: [0-9]+ passed" "$out"; then
    echo "vm: the $r VM stopped before any part ended (see above); booting it once more"
    boot_root "$r" "$out"
    rc=$?
  fi
  lane_summary "systemd-$r" "$rc" "$out" "systemd-$r-total" "($((SECONDS - start)) s with boot)"
  rm -f "$out"
done
lane_total systemd-total

#!/usr/bin/env bash
# Installs what ocimon's demo and tests need, and only what is missing:
# Deno (pinned, from npm), the OCI runtimes, busybox for test rootfs, podman
# and conmon (for the podman lane and side-by-side benchmarks), qemu and the
# tools to build the cgroup v2 VM. Safe to run again and again.
set -euo pipefail

DENO_VERSION=2.9.6
# The systemd lane boots this machine's own root with systemd as PID 1: rootless
# podman there needs newuidmap (uidmap: podman only recommends it, and
# --no-install-recommends leaves it out), a user session bus and logind.
APT_PACKAGES=(runc crun busybox-static conmon podman qemu-system-x86 cpio xz-utils python3 procps debootstrap
  uidmap systemd dbus-user-session libpam-systemd e2fsprogs)

log() { printf 'setup: %s\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "must run as root (installs packages; containers need root)"
    exit 1
  fi
}

install_deno() {
  if command -v deno >/dev/null && deno --version 2>/dev/null | grep -q "^deno $DENO_VERSION "; then
    return
  fi
  log "installing deno $DENO_VERSION from npm"
  npm install -g --silent "deno@$DENO_VERSION" >/dev/null
  deno --version | head -1 >&2
}

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need_root
install_apt
install_deno
# Compile ocimon's TypeScript once, so the first container does not pay for it.
root=$(cd "$(dirname "$0")/.." && pwd)
deno cache --quiet --no-config "$root/src/main.ts"

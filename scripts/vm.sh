#!/usr/bin/env bash
# scripts/vm.sh CMD [ARGS...]: runs CMD inside a cgroup v2 VM and exits with
# its status. The VM boots Debian's kernel under qemu (TCG: KVM is not usable
# on these machines; OCIMON_VM_ACCEL=kvm where it is), shares this machine's
# root read-only over 9p, mounts cgroup2 (and no v1 hierarchy), and runs CMD
# chrooted into that root, in the current directory, with tmpfs on /tmp,
# /run, /root, /var/lib/containers… What it writes elsewhere is lost, except
# under $OCIMON_VM_OUT (default: a fresh temp dir), shared writable at the
# same path. The guest console is saved to $OCIMON_VM_OUT/console.log.
#
# scripts/vm.sh --systemd [--root host|debian13] CMD [ARGS...]: the same VM
# with systemd as PID 1, as on a stock systemd host (scripts/vm/systemd-init):
# the shared root (this machine's, or with --root debian13 a Debian 13 root
# with podman 5 debootstrapped into .cache/vm/debian13 on first use) under an
# overlayfs with its upper layer on tmpfs, so all of it is writable and every
# write is lost; tmpfs on /tmp, /var/tmp and /var/lib/containers, and /home
# on an ext4 disk made for the run, as on a real host: rootless podman 5
# keeps its overlay storage there and needs user xattrs, which neither
# overlayfs nor kernel 6.1's tmpfs gives. systemd
# boots a target of its own (sysinit, dbus, journald, logind) and a oneshot
# service, in system.slice, that runs CMD with its output on the console and
# then powers off with CMD's exit status. podman there has its stock
# configuration: systemd cgroup manager, journald log driver and events.
# Example: scripts/vm.sh --systemd sh -c 'podman run --rm --rootfs / true'
#
# Environment: OCIMON_VM_TIMEOUT (s, default 2400), OCIMON_VM_MEM (MiB,
# 2048), OCIMON_VM_CPUS (2), OCIMON_VM_ACCEL (tcg). Variables named OCIMON_*,
# NO_COLOR and CI are passed to CMD.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache/vm"
kver=""
home_img=""

log() { printf 'vm: %s\n' "$*" >&2; }

# Debian's kernel, unpacked into the cache (not installed into /boot).
fetch_kernel() {
  if [ -f "$cache/kernel/vmlinuz" ]; then return; fi
  log "fetching Debian's kernel package"
  mkdir -p "$cache/kernel/pkg"
  apt-get update -qq >/dev/null 2>&1 || true
  local pkg
  pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
  [ -n "$pkg" ] || { log "cannot find the kernel package behind linux-image-amd64"; exit 1; }
  (cd "$cache/kernel/pkg" && rm -f ./*.deb && apt-get download "$pkg" >/dev/null 2>&1)
  dpkg-deb -x "$cache"/kernel/pkg/*.deb "$cache/kernel/root"
  cp "$cache"/kernel/root/boot/vmlinuz-* "$cache/kernel/vmlinuz.tmp"
  mv "$cache/kernel/vmlinuz.tmp" "$cache/kernel/vmlinuz"
}

# busybox, the modules in load order (virtio, 9p; virtio_blk and ext4 for
# the systemd VM's /home), and scripts/vm/init.
MODULES=(drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
  drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/9p/9pnet net/9p/9pnet_virtio
  fs/netfs/netfs fs/fscache/fscache fs/9p/9p
  drivers/block/virtio_blk lib/crc16 fs/mbcache fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4)

build_initramfs() {
  local img="$cache/initramfs.cpio.gz"
  if [ -f "$img" ] && [ "$img" -nt "$root/scripts/vm/init" ] && [ "$img" -nt "$root/scripts/vm/systemd-init" ] &&
    [ "$img" -nt "$0" ]; then return; fi
  log "building the initramfs"
  local dir="$cache/initramfs"
  rm -rf "$dir" && mkdir -p "$dir"/{bin,modules,proc,sys,dev,newroot}
  cp /bin/busybox "$dir/bin/busybox"
  local kdir
  kdir=$(echo "$cache"/kernel/root/lib/modules/*)
  : >"$dir/modules.order"
  for m in "${MODULES[@]}"; do
    local name=${m##*/}
    local src="$kdir/kernel/$m.ko"
    if [ -f "$src.xz" ]; then xz -dc "$src.xz" >"$dir/modules/$name.ko"; else cp "$src" "$dir/modules/$name.ko"; fi
    echo "$name" >>"$dir/modules.order"
  done
  local ovl="$kdir/kernel/fs/overlayfs/overlay.ko"
  if [ -f "$ovl.xz" ]; then xz -dc "$ovl.xz" >"$dir/modules/overlay.ko"; else cp "$ovl" "$dir/modules/overlay.ko"; fi
  install -m 755 "$root/scripts/vm/init" "$dir/init"
  install -m 755 "$root/scripts/vm/systemd-init" "$dir/systemd-init"
  (cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1 >"$img.tmp")
  mv "$img.tmp" "$img"
}

# Debian 13 (trixie) with podman 5, debootstrapped once into the cache (about
# 70 s; rebuilt only when missing), with this machine's Deno copied in.
# dbus-user-session: the session bus of a user's systemd, which rootless podman needs.
DEBIAN13_PACKAGES=systemd,systemd-sysv,dbus,dbus-user-session,podman,runc,crun,conmon,busybox-static,python3,procps,uidmap,kmod
build_debian13() {
  local dir="$cache/debian13"
  # Rebuilt when missing or when the package list changed.
  if [ "$(cat "$dir/.complete" 2>/dev/null)" != "$DEBIAN13_PACKAGES" ]; then
    command -v debootstrap >/dev/null || { log "debootstrap is missing (scripts/setup.sh installs it)"; exit 1; }
    log "debootstrapping Debian 13 into $dir (once)"
    rm -rf "$dir.tmp"
    debootstrap --variant=minbase --include="$DEBIAN13_PACKAGES" trixie "$dir.tmp" http://deb.debian.org/debian \
      >"$cache/debootstrap.log" 2>&1 || { log "debootstrap failed: see $cache/debootstrap.log"; exit 1; }
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    echo "$DEBIAN13_PACKAGES" >"$dir/.complete"
  fi
  local deno
  deno=$(readlink -f "$(command -v deno)")
  cmp -s "$deno" "$dir/usr/local/bin/deno" || install -m 755 "$deno" "$dir/usr/local/bin/deno"
}

# The command as a script in the results share, with the caller's directory and variables.
write_command() {
  local out=$1 guest=$2
  shift 2
  {
    echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb"
    echo "export DENO_DIR=/root/.cache/deno OCIMON_VM_GUEST=$guest"
    env | grep -E '^(OCIMON_[A-Z0-9_]*|NO_COLOR|CI)=' | grep -vE '^OCIMON_VM_(OUT|TIMEOUT|MEM|CPUS|ACCEL)=' |
      sed "s/'/'\\\\''/g; s/^\([^=]*\)=\(.*\)$/export \1='\2'/" || true
    echo "export OCIMON_VM_OUT='$out'"
    printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
    printf 'exec'
    printf ' %q' "$@"
    echo
  } >"$out/cmd.sh"
}

main() {
  local systemd=0 hostroot=/ rootname=host
  while [ $# -gt 0 ]; do
    case $1 in
      --systemd) systemd=1; shift ;;
      --root) rootname=${2:-}; shift 2 || true ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  [ $# -gt 0 ] || { echo "usage: scripts/vm.sh [--systemd [--root host|debian13]] CMD [ARGS...]" >&2; exit 2; }
  command -v qemu-system-x86_64 >/dev/null || { log "qemu-system-x86_64 is missing (scripts/setup.sh installs it)"; exit 1; }
  fetch_kernel
  build_initramfs
  case $rootname in
    host) ;;
    debian13)
      [ "$systemd" = 1 ] || { log "--root debian13 boots systemd: add --systemd"; exit 2; }
      build_debian13
      hostroot=$cache/debian13
      ;;
    *) log "unknown root '$rootname' (host, debian13)"; exit 2 ;;
  esac
  local out=${OCIMON_VM_OUT:-$(mktemp -d /tmp/ocimon-vm.XXXXXX)}
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  rm -f "$out/exit-code"
  # OCIMON_VM_GUEST: 1 in the chroot, "systemd" under systemd.
  write_command "$out" "$([ "$systemd" = 1 ] && echo systemd || echo 1)" "$@"
  # /home for the systemd VM: a sparse ext4 image, thrown away after the run.
  local disk=()
  if [ "$systemd" = 1 ]; then
    command -v mkfs.ext4 >/dev/null || { log "mkfs.ext4 is missing (package e2fsprogs)"; exit 1; }
    home_img=$(mktemp /tmp/ocimon-vm-home.XXXXXX)
    trap 'rm -f "$home_img"' EXIT
    truncate -s 4G "$home_img"
    mkfs.ext4 -q -F -L home "$home_img"
    disk=(-drive "file=$home_img,format=raw,if=virtio,cache=unsafe")
  fi
  local accel=${OCIMON_VM_ACCEL:-tcg} cpu=max
  local timeout=${OCIMON_VM_TIMEOUT:-2400}
  local start=$SECONDS
  set +e
  timeout --foreground -k 5 "$timeout" qemu-system-x86_64 \
    -accel "$accel" -cpu "$cpu" -smp "${OCIMON_VM_CPUS:-2}" -m "${OCIMON_VM_MEM:-2048}" \
    -nographic -no-reboot -nodefaults -serial stdio \
    -kernel "$cache/kernel/vmlinuz" -initrd "$cache/initramfs.cpio.gz" \
    -append "console=ttyS0 quiet loglevel=1 panic=-1 cgroup_no_v1=all rdinit=/init ocimon.out=$out ocimon.repo=$root ocimon.systemd=$systemd" \
    -virtfs "local,path=$hostroot,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$out,mount_tag=results,security_model=none,multidevs=remap" \
    -virtfs "local,path=$root,mount_tag=repo,security_model=none,readonly=on,multidevs=remap" \
    "${disk[@]}" </dev/null 2>&1 | tee "$out/console.log"
  local qemu=${PIPESTATUS[0]}
  set -e
  if [ ! -f "$out/exit-code" ]; then
    if [ "$qemu" = 124 ]; then log "timed out after ${timeout}s"; else log "the VM stopped without an exit status (qemu: $qemu)"; fi
    log "last console lines:"; tail -n 30 "$out/console.log" >&2
    exit 1
  fi
  local rc
  rc=$(cat "$out/exit-code")
  log "exit status $rc after $((SECONDS - start))s (console: $out/console.log)"
  exit "$rc"
}

main "$@"

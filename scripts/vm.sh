#!/usr/bin/env bash
# scripts/vm.sh CMD [ARGS...]: runs CMD inside a cgroup v2 VM and exits with
# its status. The VM boots Debian 12's kernel under qemu (TCG: KVM is not usable
# on these machines; OCIMON_VM_ACCEL=kvm where it is), shares this machine's
# root read-only over 9p, mounts cgroup2 (and no v1 hierarchy), and runs CMD
# chrooted into that root, in the current directory, with tmpfs on /tmp,
# /run, /root, /var/lib/containers… What it writes elsewhere is lost, except
# under $OCIMON_VM_OUT (default: a fresh temp dir), shared writable at the
# same path. The guest console is saved to $OCIMON_VM_OUT/console.log.
#
# scripts/vm.sh --systemd [--root host|debian13|sid] CMD [ARGS...]: the same VM
# with systemd as PID 1, as on a stock systemd host (scripts/vm/systemd-init):
# the shared root (this machine's, or with --root debian13 a Debian 13 root
# with podman 5.4, or with --root sid a Debian sid root with podman 5.8, each
# debootstrapped into .cache/vm/ROOT on first use; sid boots sid's own
# kernel, fetched from sid's archive into .cache/vm/kernel-sid) under an
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

# The kernels, each unpacked into a cache of its own with the initramfs
# built for it (not installed into /boot): "bookworm", Debian 12's, from this
# machine's apt, boots this machine's root and Debian 13's; "sid", Debian
# sid's own (7.2 today), boots the sid root.
kernel_of() { case $1 in sid) echo sid ;; *) echo bookworm ;; esac; }

fetch_kernel() {
  local k=$1 dir="$cache/kernel-$1"
  if [ -f "$dir/vmlinuz" ]; then return; fi
  log "fetching the $k kernel package"
  rm -rf "$dir" && mkdir -p "$dir/pkg"
  case $k in
    bookworm)
      apt-get update -qq >/dev/null 2>&1 || true
      local pkg
      pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
      [ -n "$pkg" ] || { log "cannot find the kernel package behind linux-image-amd64"; exit 1; }
      (cd "$dir/pkg" && apt-get download "$pkg" >/dev/null 2>&1)
      ;;
    sid) fetch_sid_kernel "$dir/pkg" ;;
  esac
  local deb
  for deb in "$dir"/pkg/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  local image
  image=$(find "$dir/root" \( -path '*/boot/vmlinuz-*' -o -path '*/modules/*/vmlinuz' \) -type f | head -1)
  [ -n "$image" ] || { log "no vmlinuz in the $k kernel packages"; exit 1; }
  cp "$image" "$dir/vmlinuz.tmp"
  mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
}

# apt-get or apt-cache on Debian sid's archive, with a state and cache of
# their own under .cache/vm/apt-sid: this machine's sources and lists stay
# as they are.
apt_sid() {
  local tool=$1 dir="$cache/apt-sid"
  shift
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  [ -f "$dir/sources.list" ] || echo "deb http://deb.debian.org/debian sid main" >"$dir/sources.list"
  [ -f "$dir/status" ] || : >"$dir/status"
  "$tool" -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$dir/lists" -o Dir::State::status="$dir/status" -o Dir::Cache="$dir/cache" \
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
    -o APT::Architecture=amd64 -o APT::Architectures=amd64 -o APT::Sandbox::User=root "$@"
}

# sid's kernel: linux-image-amd64 names linux-image-VERSION, which (from
# 7.x) is empty and depends on linux-base-VERSION (modules.order, config),
# linux-binary-VERSION (vmlinuz) and linux-modules-VERSION; all four are
# downloaded into DIR.
fetch_sid_kernel() {
  local dir=$1 image parts
  apt_sid apt-get update -qq >/dev/null 2>&1 || { log "apt-get update on Debian sid failed"; exit 1; }
  image=$(apt_sid apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
  [ -n "$image" ] || { log "cannot find the kernel package behind sid's linux-image-amd64"; exit 1; }
  parts=$(apt_sid apt-cache depends "$image" | sed -n 's/.*Depends: \(linux-\(base\|binary\|modules\)-[0-9][^ ]*\)$/\1/p')
  # shellcheck disable=SC2086 # one package a word
  (cd "$dir" && apt_sid apt-get download "$image" $parts >/dev/null 2>&1) ||
    { log "cannot download $image $parts from Debian sid"; exit 1; }
}

# The modules a kernel needs here, those built in left out, each after
# what it depends on (its modinfo "depends="): virtio's PCI transport, 9p
# over virtio, virtio_blk and ext4 (with crc32c, which ext4 asks the crypto
# API for) for the systemd VM's /home. On 7.2 virtio is built in and 9pnet
# needs netfs; on 6.1 9p needs netfs and fscache.
WANTED_MODULES=(virtio_pci 9pnet_virtio 9p virtio_blk crc32c_generic ext4)
# CRIU (podman container checkpoint/restore, on the sid root) asks the kernel
# for these, which a host loads on demand and this VM, without /lib/modules,
# cannot: the sock_diag modules (criu dumps sockets through them; `criu
# check` fails without them), nf_tables (criu's network lock, and its
# kernel-features probe, which fails without it), nf_conntrack_netlink
# (criu dumps a network namespace's conntrack entries; without it the
# dump of a podman container failed: "-22 reported by netlink") and veth
# (criu's probe).
CRIU_MODULES=(unix_diag inet_diag tcp_diag udp_diag raw_diag netlink_diag af_packet_diag nf_tables
  nf_conntrack_netlink veth)
module_order=()

# add_module KDIR NAME: NAME's dependencies, then NAME, onto module_order.
add_module() {
  local kdir=$1 name=${2//-/_} rel dep
  case " ${module_order[*]} " in *" $name="*) return ;; esac
  # modules.order lists the modules built as .ko; a name not there is built in.
  rel=$(sed 's/\.ko$//' "$kdir/modules.order" | awk -v n="$name" '{ b = $0; sub(/.*\//, "", b); gsub(/-/, "_", b) } b == n { print }')
  [ -n "$rel" ] || return 0
  for dep in $(module_file "$kdir" "$rel" | tr '\0' '\n' | sed -n 's/^depends=//p' | tr , ' '); do
    add_module "$kdir" "$dep"
  done
  module_order+=("$name=$rel")
}

# module_file KDIR REL: the module KDIR/REL.ko (REL as in modules.order), uncompressed.
module_file() {
  local src="$1/$2.ko"
  if [ -f "$src.xz" ]; then xz -dc "$src.xz"; elif [ -f "$src.zst" ]; then zstd -qdc "$src.zst"; else cat "$src"; fi
}

# busybox, the modules in load order, overlay (systemd-init loads it), and
# scripts/vm/init: KERNEL's initramfs, rebuilt when a script changed.
build_initramfs() {
  local k=$1 img="$cache/kernel-$1/initramfs.cpio.gz"
  if [ -f "$img" ] && [ "$img" -nt "$root/scripts/vm/init" ] && [ "$img" -nt "$root/scripts/vm/systemd-init" ] &&
    [ "$img" -nt "$0" ]; then return; fi
  log "building the initramfs for the $k kernel"
  local dir="$cache/kernel-$k/initramfs"
  rm -rf "$dir" && mkdir -p "$dir"/{bin,modules,proc,sys,dev,newroot}
  cp /bin/busybox "$dir/bin/busybox"
  local kdir
  kdir=$(echo "$cache/kernel-$k"/root/{usr/,}lib/modules/*/modules.order | tr ' ' '\n' | grep -v '\*' | head -1)
  kdir=${kdir%/modules.order}
  [ -n "$kdir" ] || { log "no modules.order in the $k kernel"; exit 1; }
  module_order=()
  local m
  local wanted=("${WANTED_MODULES[@]}")
  [ "$k" = sid ] && wanted+=("${CRIU_MODULES[@]}")
  for m in "${wanted[@]}"; do add_module "$kdir" "$m"; done
  : >"$dir/modules.order"
  for m in "${module_order[@]}"; do
    module_file "$kdir" "${m#*=}" >"$dir/modules/${m%%=*}.ko"
    echo "${m%%=*}" >>"$dir/modules.order"
  done
  module_file "$kdir" kernel/fs/overlayfs/overlay >"$dir/modules/overlay.ko"
  install -m 755 "$root/scripts/vm/init" "$dir/init"
  install -m 755 "$root/scripts/vm/systemd-init" "$dir/systemd-init"
  (cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1 >"$img.tmp")
  mv "$img.tmp" "$img"
}

# Debian 13 (trixie, podman 5.4) and Debian sid (podman 5.8), each
# debootstrapped once into the cache (about 70 s; rebuilt only when missing
# or when the package list changed), with this machine's Deno copied in.
# dbus-user-session: the session bus of a user's systemd, which rootless podman needs.
ROOT_PACKAGES=systemd,systemd-sysv,dbus,dbus-user-session,podman,runc,crun,conmon,busybox-static,python3,procps,uidmap,kmod
# sid adds CRIU for podman container checkpoint/restore
# (tests/systemd/checkpoint_test.ts): criu 4.2.1 (criu check passes on sid's
# kernel, with CRIU_MODULES loaded), libcriu2, which crun loads for it, and
# iproute2 (criu's recommendation), whose `ip` criu runs to dump a network
# namespace's addresses (crun's checkpoint failed without it). Not iptables:
# without a legacy iptables-save criu dumps the rules through libnftables
# alone (and locks the network with nf_tables: checkpoint_test.ts).
root_packages() { case $1 in sid) echo "$ROOT_PACKAGES,criu,libcriu2,iproute2" ;; *) echo "$ROOT_PACKAGES" ;; esac; }
build_root() {
  local name=$1 suite=$2 dir="$cache/$1" packages
  packages=$(root_packages "$name")
  if [ "$(cat "$dir/.complete" 2>/dev/null)" != "$packages" ]; then
    command -v debootstrap >/dev/null || { log "debootstrap is missing (scripts/setup.sh installs it)"; exit 1; }
    log "debootstrapping Debian $suite into $dir (once)"
    rm -rf "$dir.tmp"
    debootstrap --variant=minbase --include="$packages" "$suite" "$dir.tmp" http://deb.debian.org/debian \
      >"$cache/debootstrap-$name.log" 2>&1 || { log "debootstrap failed: see $cache/debootstrap-$name.log"; exit 1; }
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    echo "$packages" >"$dir/.complete"
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
  mkdir -p "$cache"
  [ $# -gt 0 ] || { echo "usage: scripts/vm.sh [--systemd [--root host|debian13|sid]] CMD [ARGS...]" >&2; exit 2; }
  command -v qemu-system-x86_64 >/dev/null || { log "qemu-system-x86_64 is missing (scripts/setup.sh installs it)"; exit 1; }
  case $rootname in
    host) ;;
    debian13 | sid)
      [ "$systemd" = 1 ] || { log "--root $rootname boots systemd: add --systemd"; exit 2; }
      build_root "$rootname" "$([ "$rootname" = sid ] && echo sid || echo trixie)"
      hostroot=$cache/$rootname
      ;;
    *) log "unknown root '$rootname' (host, debian13, sid)"; exit 2 ;;
  esac
  local kernel
  kernel=$(kernel_of "$rootname")
  fetch_kernel "$kernel"
  build_initramfs "$kernel"
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
    -kernel "$cache/kernel-$kernel/vmlinuz" -initrd "$cache/kernel-$kernel/initramfs.cpio.gz" \
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

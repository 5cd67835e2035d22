#!/usr/bin/env bash
# Runs COMMAND beside a systemd-journald of its own, for the journald tests on
# a host without systemd as PID 1 (this one): in a private mount namespace,
# /run/systemd and /run/log become fresh tmpfs, /dev/log points at the new
# journald, and journald is started by hand. Nothing outside the namespace
# sees it; the journal lives in /run/log/journal inside and goes with it.
# Where a journal already runs (systemd as PID 1), COMMAND just runs.
# Usage (root): scripts/with_journald.sh COMMAND [ARG...]
set -euo pipefail
if [ -S /run/systemd/journal/socket ] && [ "${_OCIMON_JOURNAL_NS:-}" != 1 ]; then exec "$@"; fi
if [ "${_OCIMON_JOURNAL_NS:-}" != 1 ]; then
  exec env _OCIMON_JOURNAL_NS=1 unshare --mount --propagation private -- bash "$0" "$@"
fi
journald=/lib/systemd/systemd-journald
[ -x "$journald" ] || { echo "with_journald: $journald not found" >&2; exit 1; }
mount -t tmpfs -o mode=755 tmpfs /run/systemd
mkdir -p /run/log && mount -t tmpfs -o mode=755 tmpfs /run/log
# A /dev of our own with the host's entries bound in, plus /dev/log.
olddev=$(mktemp -d /tmp/ocimon-olddev.XXXXXX)
mount --rbind /dev "$olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for e in "$olddev"/* "$olddev"/.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  n=/dev/${e##*/}
  if [ -L "$e" ]; then cp -P "$e" "$n"
  elif [ -d "$e" ]; then mkdir "$n" && mount --rbind "$e" "$n"
  else touch "$n" && mount --bind "$e" "$n"; fi
done
umount -l "$olddev" && rmdir "$olddev"
ln -sf /run/systemd/journal/dev-log /dev/log
mkdir -p /run/systemd/journal
# No rate limit: the tests and the benchmark count every entry.
conf=$(mktemp /run/systemd/journald.conf.XXXXXX)
printf '[Journal]\nRateLimitBurst=0\n' >"$conf"
if [ -e /etc/systemd/journald.conf ]; then mount --bind "$conf" /etc/systemd/journald.conf; fi
"$journald" &
# The running journald's pid; a test that kills it starts another and writes its pid here.
export OCIMON_TEST_JOURNALD_PIDFILE=/run/systemd/ocimon-test-journald.pid
echo $! >"$OCIMON_TEST_JOURNALD_PIDFILE"
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
[ -S /run/systemd/journal/socket ] || { echo "with_journald: journald did not start" >&2; exit 1; }
rc=0
"$@" || rc=$?
kill "$(cat "$OCIMON_TEST_JOURNALD_PIDFILE")" 2>/dev/null || true
exit "$rc"

#!/usr/bin/env bash
# testdata/kmsg/capture.sh CMD [ARGS...]: runs CMD and prints the /dev/kmsg
# records (raw, as `cat /dev/kmsg` gives them, dictionary lines included)
# that the kernel logged from its start until a second after it ended.
# Needs root (CAP_SYSLOG). Used to capture the OOM fixtures in this directory.
set -uo pipefail
records() { dd if=/dev/kmsg iflag=nonblock bs=65536 2>/dev/null || true; }
last=$(records | awk -F'[,;]' '/^[0-9]/ { s = $2 } END { print s + 0 }')
"$@" >&2
sleep 1
records | awk -v last="$last" '
  /^ / { if (keep) print; next }
  { split($0, f, /[,;]/); keep = f[2] + 0 > last; if (keep) print }'

#!/usr/bin/env bash
# deno task bench: ocimon and conmon side by side (see scripts/bench.ts).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
# The journald section needs a journald: where none runs (no systemd as PID 1),
# give the run one of its own.
wrap=()
if [ ! -S /run/systemd/journal/socket ] && [[ " $* " != *" --only "* || " $* " == *journald* ]]; then
  wrap=("$root/scripts/with_journald.sh")
fi
exec "${wrap[@]}" deno run --allow-all --no-config --quiet "$root/scripts/bench.ts" "$@"

#!/usr/bin/env bash
# deno task bench: ocimon and conmon side by side (see scripts/bench.ts).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
exec deno run --allow-all --no-config --quiet "$root/scripts/bench.ts" "$@"

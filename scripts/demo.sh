#!/usr/bin/env bash
# README command 1: installs what is missing, then runs three real containers
# through ocimon and shows how each ended (see scripts/demo.ts).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
exec deno run --allow-all --no-config --quiet "$root/scripts/demo.ts"

#!/usr/bin/env bash
# Builds dist/ocimon, one self-contained binary, with `deno compile`.
# deno compile needs the matching `denort` runtime: it takes DENORT_BIN if
# set, else downloads it from Deno's release server. Where neither works,
# this says so and fails; ocimon then runs from source through bin/ocimon.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p dist
if [ -n "${DENORT_BIN:-}" ] && [ ! -x "$DENORT_BIN" ]; then
  echo "compile: DENORT_BIN=$DENORT_BIN is not an executable file" >&2
  exit 1
fi
v8_flags=$(sed -n 's/.*--v8-flags=\([^ ]*\).*/\1/p' bin/ocimon)
if ! deno compile --quiet --no-config --allow-all --no-prompt --v8-flags="$v8_flags" \
  --output dist/ocimon src/main.ts; then
  cat >&2 <<MSG
compile: deno compile failed. It needs the denort runtime for Deno $(deno --version | head -1 | cut -d' ' -f2):
  set DENORT_BIN=/path/to/denort (same version as deno), or allow access to Deno's release server.
  Until then, run ocimon from source: bin/ocimon.
MSG
  exit 1
fi
echo "compile: built dist/ocimon; test it with: OCIMON_BIN=dist/ocimon deno task test" >&2

/**
 * A recording runtime for the monitor's phases: a shell script that logs
 * each call (its argv, its pid, the LISTEN_PID it sees) and acts as told by
 * its mode, with a sync pipe to read and an exit command that leaves a mark.
 * Real processes throughout; only the OCI runtime is played.
 *
 * @module
 */
import { join } from "node:path";
import { parseCommandLine } from "../../src/cli/parse.ts";
import type { Config } from "../../src/cli/config.ts";
import { closeQuietly, pipe, readSome, setNonBlocking } from "../../src/sys/fd.ts";
import { exists } from "../../src/util/fs.ts";
import { tempDir } from "./env.ts";

export { exists };

/**
 * Modes: create or restore `fail` (a message, exit 1), `killed` (a
 * container made, then SIGKILL), `ok` (a container that sleeps 300 s),
 * `short` (one that exits 0 at once).
 */
const SCRIPT = `#!/bin/sh
here=$(dirname "$0")
echo "$*" >> "$here/calls"
echo "$$ \${LISTEN_PID:-unset}" >> "$here/pids"
case "$1 $(cat "$here/mode")" in
  "create fail" | "restore fail") echo "no such image" >&2; exit 1 ;;
  "create killed") sleep 300 & echo $! > "$PIDFILE_PATH"; kill -9 $$ ;;
  "create ok" | "restore ok") sleep 300 & echo $! > "$PIDFILE_PATH"; exit 0 ;;
  "create short" | "restore short") sleep 0.2 & echo $! > "$PIDFILE_PATH"; exit 0 ;;
esac
exit 0
`;

export interface RecordingRuntime {
  dir: string;
  cfg: Config;
  /** What the monitor said on the sync pipe. */
  syncText(): string;
  /** Each call's argv after the runtime's name. */
  calls(): string[];
  /** Each call's pid and the LISTEN_PID it saw ("unset" if none). */
  pids(): [number, string][];
  exitCommandRan(): boolean;
  cleanup(): void;
}

export function recordingRuntime(mode: string, extra: string[] = []): RecordingRuntime {
  const dir = tempDir("recording");
  const runtime = join(dir, "runtime");
  Deno.writeTextFileSync(runtime, SCRIPT, { mode: 0o755 });
  Deno.writeTextFileSync(join(dir, "mode"), mode);
  Deno.writeTextFileSync(join(dir, "calls"), "");
  Deno.writeTextFileSync(join(dir, "pids"), "");
  const exitCommand = join(dir, "exit-command");
  Deno.writeTextFileSync(exitCommand, `#!/bin/sh\ntouch "${dir}/exit-command-ran"\n`, {
    mode: 0o755,
  });
  const bundle = join(dir, "bundle");
  Deno.mkdirSync(bundle);
  Deno.writeTextFileSync(join(bundle, "config.json"), "{}");
  const pidfile = join(dir, "pidfile");
  Deno.env.set("PIDFILE_PATH", pidfile);
  const [r, w] = pipe();
  setNonBlocking(r);
  Deno.env.set("_OCI_SYNCPIPE", String(w));
  const { config: cfg } = parseCommandLine([
    "-c",
    "cid1",
    "-u",
    "uuid1",
    "-r",
    runtime,
    "-b",
    bundle,
    "-p",
    pidfile,
    "-l",
    "none",
    "--exit-dir",
    dir,
    "--persist-dir",
    join(dir, "persist"),
    "--api-version",
    "1",
    "--sync",
    "--exit-command",
    exitCommand,
    ...extra,
  ]) as { config: Config }; // deno-fmt-ignore
  const lines = (f: string) =>
    Deno.readTextFileSync(join(dir, f)).trim().split("\n").filter(Boolean);
  return {
    dir,
    cfg,
    syncText() {
      const buf = new Uint8Array(4096);
      const n = readSome(r, buf);
      return n > 0 ? new TextDecoder().decode(buf.subarray(0, n)) : "";
    },
    calls: () => lines("calls"),
    pids: () =>
      lines("pids").map((l) => {
        const [pid, listen] = l.split(" ");
        return [Number(pid), listen];
      }),
    exitCommandRan: () => exists(join(dir, "exit-command-ran")),
    cleanup() {
      closeQuietly(r);
      Deno.env.delete("_OCI_SYNCPIPE");
      Deno.env.delete("PIDFILE_PATH");
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/**
 * Runs the OCI runtime's short-lived commands (create, exec, start, delete)
 * as children ocimon reaps itself.
 *
 * @module
 */
import type { ChildReaper } from "../reaper/child_reaper.ts";
import { getOomScoreAdj, setOomScoreAdj } from "../sys/process.ts";
import { spawn, type SpawnOptions } from "../sys/spawn.ts";
import type { WaitResult } from "../sys/process.ts";
import { childEnvironment } from "../env.ts";

/** The oom_score_adj we had before lowering ours; children get it back. */
let inheritedOomScoreAdj: string | undefined;

/**
 * Protects the monitor from the OOM killer (-1000), remembering the old value
 * for the processes it starts: the container must stay killable.
 */
export function protectFromOomKiller(): void {
  if (inheritedOomScoreAdj !== undefined) return;
  inheritedOomScoreAdj = getOomScoreAdj();
  setOomScoreAdj("-1000");
}

/**
 * Spawns a child with our pre-protection oom_score_adj. The value is copied
 * at fork time and posix_spawn returns only after the child has exec'd, so
 * lowering ours again right after cannot reach the child.
 */
export function spawnChild(opts: Omit<SpawnOptions, "path" | "env"> & { env?: string[] }): number {
  const restore = inheritedOomScoreAdj !== undefined && inheritedOomScoreAdj !== "-1000";
  if (restore) setOomScoreAdj(inheritedOomScoreAdj!);
  try {
    return spawn({ ...opts, path: opts.argv[0], env: opts.env ?? childEnvironment() });
  } finally {
    if (restore) setOomScoreAdj("-1000");
  }
}

/** Runs a runtime command to completion with stdio to /dev/null (or given fds). */
export async function runToCompletion(
  reaper: ChildReaper,
  argv: string[],
  cwd?: string,
  fds: SpawnOptions["fds"] = { 0: "null", 1: "null", 2: "null" },
): Promise<WaitResult> {
  const pid = reaper.started(spawnChild({ argv, cwd, fds }));
  return await reaper.wait(pid);
}

/** Reads the pid the runtime wrote to its pid file. */
export function readPidFile(path: string): number {
  const text = Deno.readTextFileSync(path).trim();
  const pid = Number(text);
  if (!/^\d+$/.test(text) || pid <= 0) throw new Error(`${path} holds no pid ('${text}')`);
  return pid;
}

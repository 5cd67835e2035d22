/**
 * Phase 4, exit: waits for the container's process to be reaped, then takes
 * what can only be read now (the OOM counters, before systemd removes an
 * empty scope; the memory figures) and what the pipes hold, and hands it all
 * on as one record.
 *
 * @module
 */
import type { MemoryCgroup } from "../cgroup/paths.ts";
import type { OomVerdict } from "../cgroup/oom_watcher.ts";
import { type MemoryUsage, readMemoryUsage } from "../cgroup/memory_files.ts";
import { rfc3339Nano } from "../sys/time.ts";
import { attempt, type MonitorSession } from "./session.ts";
import type { Watching } from "./watch.ts";

/** What conmon reports for a --timeout kill, in the exit file and to exec callers. */
export const TIMED_OUT_EXIT = -1;
export const TIMED_OUT_MESSAGE = "command timed out";

/** The hand-off from exit to report: how the container ended. */
export interface ContainerExit {
  pid: number;
  startedAt: string;
  finishedAt: string;
  /** The exit code callers see: the process's, or TIMED_OUT_EXIT. */
  exitCode: number;
  /** The signal that ended the process, if one did. */
  signal: number | null;
  timedOut: boolean;
  oom: OomVerdict;
  memory: MemoryUsage;
  cgroup: MemoryCgroup | null;
}

const NO_OOM: OomVerdict = { oomKilled: false, oomKillCount: 0, source: "none" };

export async function awaitExit(s: MonitorSession, w: Watching): Promise<ContainerExit> {
  const exit = await s.reaper.wait(w.pid);
  const finishedAt = rfc3339Nano();
  w.deadline.clear();
  s.signalTarget = 0;
  // The counters first: under systemd the empty scope, counters and all, is
  // removed soon after the exit, and draining the output can take a while.
  const oom = attempt("reading the OOM counters", () => w.watcher?.verdict() ?? NO_OOM, NO_OOM);
  // What the pipes hold now, and no more: a writer that outlives the
  // container must not hold back the exit files.
  attempt("reading the container's last output", () => w.relay.drain());
  const memory = attempt(
    "reading the container's memory use",
    () => w.cgroup ? readMemoryUsage(w.cgroup.dir, w.cgroup.version) : unknownMemory(),
    unknownMemory(),
  );
  // Sends under way reach the logs before the exit file says "done".
  await attempt("finishing the log writes", () => s.logSinks?.settle());
  s.stopForwarding();
  const timedOut = w.deadline.timedOut;
  s.exitCode = timedOut ? TIMED_OUT_EXIT : exit.code;
  return {
    pid: w.pid,
    startedAt: w.startedAt,
    finishedAt,
    exitCode: s.exitCode,
    signal: exit.signal ?? null,
    timedOut,
    oom,
    memory,
    cgroup: w.cgroup ?? null,
  };
}

function unknownMemory(): MemoryUsage {
  return { peak: null, limit: null };
}

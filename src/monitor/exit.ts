/**
 * Phase 4, exit: waits for the container's process to be reaped, then takes
 * what can only be read now (the OOM counters, before systemd removes an
 * empty scope; the memory figures) and what the pipes hold, and hands it all
 * on as one record.
 *
 * @module
 */
import type { MemoryCgroup } from "../cgroup/paths.ts";
import type { OomVerdict } from "../oom/watcher.ts";
import type { OomKillReport } from "../oom/oom_report.ts";
import { withReports } from "../oom/describe.ts";
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
  /** The kernel's reports of kills in the container's cgroup. */
  oomReports: OomKillReport[];
  /** "kmsg", or why the kernel's reports could not be read. */
  oomReportsSource: string;
  memory: MemoryUsage;
  cgroup: MemoryCgroup | null;
}

const NO_OOM: OomVerdict = {
  oomKilled: false,
  oomKillCount: 0,
  source: "none",
  finalRead: false,
  counters: null,
};

export async function awaitExit(s: MonitorSession, w: Watching): Promise<ContainerExit> {
  const exit = await s.reaper.wait(w.pid);
  const finishedAt = rfc3339Nano();
  w.deadline.clear();
  s.signalTarget = 0;
  // The counters first: under systemd the empty scope, counters and all, is
  // removed soon after the exit, and draining the output can take a while.
  const counted = attempt("reading the OOM counters", () => w.watcher?.verdict() ?? NO_OOM, NO_OOM);
  const memory = attempt(
    "reading the container's memory use",
    () => w.cgroup ? readMemoryUsage(w.cgroup.dir, w.cgroup.version) : unknownMemory(),
    unknownMemory(),
  );
  // What the pipes hold now, and no more: a writer that outlives the
  // container must not hold back the exit files.
  attempt("reading the container's last output", () => w.relay.drain());
  // The kernel's reports: who was killed, and the evidence where the cgroup
  // was gone before its counters could be read. Not read when nothing happened,
  // nor where there is no counter to miss (no memory controller).
  const oomReports = w.watcher && (counted.oomKillCount > 0 || !counted.finalRead)
    ? await attempt("reading the kernel's OOM reports", () => w.oomReports?.now() ?? [], [])
    : [];
  let oom = withReports(counted, oomReports);
  // Without the kernel's reports (rootless), systemd's record of the scope's
  // kill is the evidence left when the scope was gone before the last read.
  if (w.watcher && !oom.finalRead && !oom.oomKilled && s.oomEvidence?.unavailable && w.cgroup) {
    oom = await attempt(
      "reading systemd's record of the unit",
      () => unitRecord(s, w.cgroup!, oom),
      oom,
    );
  }
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
    oomReports,
    oomReportsSource: s.oomEvidence?.unavailable ?? "kmsg",
    memory,
    cgroup: w.cgroup ?? null,
  };
}

/** How long the exit waits for systemd's record of a unit to reach the journal. */
const UNIT_RECORD_WAIT_MS = 2000;

/** The verdict, with systemd's journal record of an OOM kill in the container's unit. */
async function unitRecord(
  s: MonitorSession,
  cg: MemoryCgroup,
  oom: OomVerdict,
): Promise<OomVerdict> {
  const { containerUnit, unitOomRecord } = await import("../oom/unit_record.ts");
  const unit = containerUnit(cg.path, s.cfg.cid);
  if (!unit) return oom;
  const record = await unitOomRecord(unit, s.beganUsec, UNIT_RECORD_WAIT_MS);
  if (!record.killed) return oom;
  return {
    ...oom,
    oomKilled: true,
    oomKillCount: Math.max(1, oom.oomKillCount),
    source: "systemd",
  };
}

function unknownMemory(): MemoryUsage {
  return { peak: null, limit: null, high: null, swapPeak: null, swapLimit: null, pressure: null };
}

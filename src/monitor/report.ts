/**
 * Phase 5, report: the status and exit files, in the order callers rely on
 * (oom, status, persist exit, exit-dir file: the "done" signal), each
 * written even when one before it failed; then the exec caller's exit code
 * and the end of attach sessions.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import { type ContainerStatus, writeStatusFile } from "../status/status_file.ts";
import { writeExitDirFile, writeOomFiles, writePersistExitFile } from "../status/exit_files.ts";
import { signalName } from "../sys/process.ts";
import { describeOom } from "../oom/describe.ts";
import { attempt, type MonitorSession } from "./session.ts";
import { type ContainerExit, TIMED_OUT_MESSAGE } from "./exit.ts";

/** The status file's content: a pure function of the configuration and the exit. */
export function buildStatus(cfg: Config, exit: ContainerExit): ContainerStatus {
  const { cgroup, memory, oom } = exit;
  return {
    version: 2,
    cid: cfg.cid,
    name: cfg.name ?? null,
    pid: exit.pid,
    runtime: cfg.runtime,
    exitCode: exit.exitCode,
    signal: exit.signal ? signalName(exit.signal) : null,
    oomKilled: oom.oomKilled,
    oomKillCount: oom.oomKillCount,
    timedOut: exit.timedOut,
    startedAt: exit.startedAt,
    finishedAt: exit.finishedAt,
    cgroup: cgroup ? { version: cgroup.version, path: cgroup.path, dir: cgroup.dir } : null,
    memory: {
      peakBytes: memory.peak,
      limitBytes: memory.limit,
      highBytes: memory.high,
      swapPeakBytes: memory.swapPeak,
      swapLimitBytes: memory.swapLimit,
      pressure: memory.pressure,
    },
    oom: describeOom(oom, exit.oomReports, exit.pid, exit.oomReportsSource),
  };
}

export async function report(s: MonitorSession, exit: ContainerExit, status: ContainerStatus) {
  const { cfg, exitFiles } = s;
  const code = exit.exitCode;
  if (exit.oom.oomKilled) attempt("writing the oom files", () => writeOomFiles(exitFiles));
  const statusFile = cfg.statusFile;
  if (statusFile) attempt("writing the status file", () => writeStatusFile(statusFile, status));
  attempt("writing the persist exit file", () => writePersistExitFile(exitFiles, code));
  attempt("writing the exit file", () => writeExitDirFile(exitFiles, code));
  if (cfg.exec) s.sync.send(code, exit.timedOut ? TIMED_OUT_MESSAGE : undefined);
  s.sync.close();
  s.stage = "reported";
  // Only now end the attach sessions: a client that sees the end of output
  // and asks for the exit code must find the exit file already there.
  await attempt("ending attach sessions", async () => {
    await s.endpoints?.attach?.flush();
    s.endpoints?.close();
  });
}

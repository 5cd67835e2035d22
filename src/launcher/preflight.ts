/**
 * The launcher's checks, in conmon's order, before anything of the
 * container's is made: what the caller asked for that cannot work is one
 * line and exit status 1, with nothing left behind. Then the launcher
 * starts the monitor (spawn_monitor.ts), or with --sync becomes it.
 *
 * Each step loads its code only when it is needed, so that the launcher
 * stays cheap.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import { UsageError } from "../cli/parse.ts";
import { fatal, usageFailure } from "../diag.ts";
import { forgetVariable, pipeFdFromEnv, START_PIPE_ENV, SYNC_PIPE_ENV } from "../env.ts";

/** The checks passed: the k8s-file logs, open, for the monitor. */
export interface Checked {
  logFiles: number[];
}

/** A check failed (and said why): the launcher's exit status. */
export interface Refused {
  exitCode: number;
}

/** Runs the checks; the open logs, or the exit status of a refusal. */
export async function preflight(cfg: Config): Promise<Checked | Refused> {
  if (cfg.logDrivers.some((d) => d.kind === "journald")) {
    // Checked before anything is made: a host without libsystemd gets one line.
    const { JournalClient } = await import("../sys/libsystemd.ts");
    try {
      JournalClient.open();
    } catch (err) {
      return { exitCode: fatal((err as Error).message) };
    }
  }
  if (cfg.conmonPidfile) {
    // Checked before anything runs: a pidfile we cannot write fails here,
    // with nothing created (conmon finds out only after it forked).
    const { checkWritable } = await import("../status/atomic_write.ts");
    const problem = checkWritable(cfg.conmonPidfile);
    if (problem) {
      console.error(`ocimon: cannot write the conmon pidfile ${cfg.conmonPidfile}: ${problem}`);
      return { exitCode: 1 };
    }
  }
  if (cfg.cgroup) {
    const { joinCgroup } = await import("../cgroup/join.ts");
    try {
      joinCgroup(cfg.cgroup);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      return { exitCode: usageFailure(err.message, err.hint) };
    }
  }
  // Then the logs, as conmon: a log that cannot be used costs nothing but a message.
  const { openLogFiles, LogSetupError, removeCreatedLogs } = await import("../io/log_files.ts");
  const createdLogs: string[] = [];
  let logFiles: number[];
  try {
    logFiles = openLogFiles(cfg, createdLogs);
  } catch (err) {
    if (!(err instanceof LogSetupError)) throw err;
    return { exitCode: fatal(err.message) };
  }
  const { waitOnStartPipe, ParentPipe } = await import("../io/sync_pipe.ts");
  waitOnStartPipe(pipeFdFromEnv(START_PIPE_ENV), cfg.execAttach);
  // Closed: no later reader (the monitor) may take a reused number for it.
  if (!cfg.execAttach) forgetVariable(START_PIPE_ENV);
  // Where the caller has placed us by now: too little memory there fails
  // here, with a message for the caller, not later as a silent OOM kill.
  const { monitorCgroupTooSmall } = await import("../cgroup/monitor_limit.ts");
  const tooSmall = monitorCgroupTooSmall();
  if (tooSmall) {
    removeCreatedLogs(createdLogs);
    console.error(`ocimon: ${tooSmall}`);
    ParentPipe.fromEnv(SYNC_PIPE_ENV, cfg.apiVersion, cfg.exec).send(-1, tooSmall);
    return { exitCode: 1 };
  }
  return { logFiles };
}

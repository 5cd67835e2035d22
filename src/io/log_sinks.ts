/**
 * The log drivers chosen with --log-path, as output sinks.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import { diag } from "../diag.ts";
import type { OutputSink } from "./container_io.ts";
import { K8sFileLog } from "./k8s_file.ts";
import type { Stream } from "./stream.ts";
import { setCloexec } from "../sys/fd.ts";

/** The k8s-file log paths, in --log-path order. */
export function k8sLogPaths(cfg: Config): string[] {
  return cfg.logDrivers.flatMap((d) => (d.kind === "k8s-file" ? [d.path] : []));
}

/**
 * In the monitor: the descriptors the launcher opened (log_files.ts) and
 * handed over (src/env.ts takeLogFds), made close-on-exec again so that no
 * runtime inherits them. Undefined when the launcher handed none over (then
 * the logs are opened here).
 */
export function inheritLogFiles(fds: number[] | undefined): number[] | undefined {
  for (const fd of fds ?? []) setCloexec(fd, true);
  return fds;
}

export interface LogSinks {
  sinks: OutputSink[];
  /** Reopens every log file (the `ctl` reopen message). Never throws. */
  reopen(): void;
  /** Waits, boundedly, for sends under way (before close). */
  settle(): Promise<void>;
  close(): void;
}

interface Sink {
  write(stream: Stream, data: Uint8Array): void;
  reopen?(): void;
  settle?(): Promise<void>;
  close(): void;
}

/**
 * Drivers whose code loads only when used: the journald driver binds
 * libsystemd (src/io/journald.ts).
 */
export interface LoadedDrivers {
  journald?: (say: (message: string) => void) => Sink;
}

export async function loadLogDrivers(cfg: Config): Promise<LoadedDrivers> {
  if (!cfg.logDrivers.some((d) => d.kind === "journald")) return {};
  const { JournaldLog } = await import("./journald.ts");
  const { JournalClient } = await import("../sys/libsystemd.ts");
  const client = JournalClient.open();
  const fields = {
    cid: cfg.cid,
    name: cfg.name,
    tag: cfg.logTag,
    labels: cfg.logLabels,
    noPartialFlag: cfg.noContainerPartialMessage,
  };
  return { journald: (say) => new JournaldLog(fields, say, client) };
}

/**
 * The sinks for the configured drivers. `fds` are the k8s-file logs already
 * open (log_files.ts, inheritLogFiles()), in order; without them the files
 * are opened here. `loaded` are the drivers loadLogDrivers() loaded. Throws
 * if a log cannot be opened.
 */
export function openLogSinks(
  cfg: Config,
  fds: readonly number[] | undefined,
  loaded: LoadedDrivers = {},
  say: (message: string) => void = diag,
): LogSinks {
  const limits = {
    sizeMax: cfg.logSizeMax,
    globalSizeMax: cfg.logGlobalSizeMax,
    rotate: cfg.logRotate,
    maxFiles: cfg.logMaxFiles,
  };
  const sinks: Sink[] = [];
  try {
    k8sLogPaths(cfg).forEach((path, i) => sinks.push(new K8sFileLog(path, limits, fds?.[i])));
    // One journal sink however often `-l journald` is given (as conmon).
    if (loaded.journald) sinks.push(loaded.journald(say));
  } catch (err) {
    sinks.forEach((f) => f.close());
    throw err;
  }
  return {
    sinks: sinks.map((s) => (stream, data) => s.write(stream, data)),
    reopen: () => sinks.forEach((s) => s.reopen?.()),
    settle: async () => {
      await Promise.all(sinks.map((s) => s.settle?.()));
    },
    close: () => sinks.forEach((s) => s.close()),
  };
}

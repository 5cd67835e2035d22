/**
 * The log drivers chosen with --log-path, as output sinks.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import type { OutputSink } from "./container_io.ts";
import { K8sFileLog } from "./k8s_file.ts";
import { k8sLogPaths } from "./log_files.ts";

export interface LogSinks {
  sinks: OutputSink[];
  /** Reopens every log file (the `ctl` reopen message). Never throws. */
  reopen(): void;
  close(): void;
}

/**
 * The sinks for the configured drivers. `fds` are the k8s-file logs the
 * launcher opened (log_files.ts), in order; without them the files are
 * opened here. Throws if a log cannot be opened.
 */
export function openLogSinks(cfg: Config, fds?: readonly number[]): LogSinks {
  const limits = {
    sizeMax: cfg.logSizeMax,
    globalSizeMax: cfg.logGlobalSizeMax,
    rotate: cfg.logRotate,
    maxFiles: cfg.logMaxFiles,
  };
  const files: K8sFileLog[] = [];
  try {
    k8sLogPaths(cfg).forEach((path, i) => files.push(new K8sFileLog(path, limits, fds?.[i])));
  } catch (err) {
    files.forEach((f) => f.close());
    throw err;
  }
  const sinks: OutputSink[] = files.map((f) => (stream, data) => f.write(stream, data));
  // The journald sink (helper "sd", src/io/journald.ts) plugs in here, loaded
  // only when the driver is used; log_files.ts refuses the driver until then.
  return {
    sinks,
    reopen: () => files.forEach((f) => f.reopen()),
    close: () => files.forEach((f) => f.close()),
  };
}

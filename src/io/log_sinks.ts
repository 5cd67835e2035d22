/**
 * The log drivers chosen with --log-path, as output sinks.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import type { OutputSink } from "./container_io.ts";
import { K8sFileLog } from "./k8s_file.ts";

export interface LogSinks {
  sinks: OutputSink[];
  /** Reopens every log file (the `ctl` reopen message). */
  reopen(): void;
  close(): void;
}

export function openLogSinks(cfg: Config): LogSinks {
  const files = cfg.logDrivers.flatMap((d) =>
    d.kind === "k8s-file" ? [new K8sFileLog(d.path, cfg.logSizeMax)] : []
  );
  return {
    sinks: files.map((f) => (stream, data) => f.write(stream, data)),
    reopen: () => files.forEach((f) => f.reopen()),
    close: () => files.forEach((f) => f.close()),
  };
}

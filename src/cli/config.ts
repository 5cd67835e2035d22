/**
 * The validated configuration of one monitor, as parsed from the command line.
 *
 * @module
 */

export type LogDriver =
  | { kind: "k8s-file"; path: string }
  | { kind: "passthrough" }
  | { kind: "none" };

export interface Config {
  cid: string;
  cuuid?: string;
  name?: string;
  runtime: string;
  bundle: string;
  containerPidfile: string;
  conmonPidfile?: string;
  exitDir?: string;
  persistDir?: string;
  statusFile?: string;
  /** A cgroup directory to join before any other work. */
  cgroup?: string;
  logDrivers: LogDriver[];
  logSizeMax: number;
  logTag?: string;
  logLevel: string;
  runtimeArgs: string[];
  runtimeOpts: string[];
  exitCommand?: string;
  exitCommandArgs: string[];
  exitDelay: number;
  apiVersion: number;
  sync: boolean;
  /** Seconds; 0 means no timeout. */
  timeout: number;
  stdin: boolean;
  leaveStdinOpen: boolean;
  terminal: boolean;
  noPivot: boolean;
  noNewKeyring: boolean;
  systemdCgroup: boolean;
  fullAttach: boolean;
  socketDirPath?: string;
  exec: boolean;
  execAttach: boolean;
  execProcessSpec?: string;
  preserveFds: number;
}

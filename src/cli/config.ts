/**
 * The validated configuration of one monitor, as parsed from the command line.
 *
 * @module
 */

/**
 * One --log-path value. `none` (also `off`, `null`) logs nothing but counts
 * as a driver given; `journald` writes to the systemd journal.
 */
export type LogDriver =
  | { kind: "k8s-file"; path: string }
  | { kind: "journald" }
  | { kind: "passthrough" }
  | { kind: "none" };

export interface Config {
  cid: string;
  cuuid?: string;
  name?: string;
  runtime: string;
  /** --bundle, or the working directory (the runtime runs there). */
  bundle: string;
  /**
   * Whether clients get endpoints in the bundle (attach socket, ctl and winsz
   * FIFOs, the oom file): false for an exec without --bundle, such as CRI-O's
   * ExecSync, which then creates nothing outside its own files (as conmon).
   */
  bundleEndpoints: boolean;
  containerPidfile: string;
  conmonPidfile?: string;
  exitDir?: string;
  persistDir?: string;
  statusFile?: string;
  /** A cgroup directory to join before any other work. */
  cgroup?: string;
  logDrivers: LogDriver[];
  /** Bytes; -1 for no limit. Per k8s-file log: truncated (or rotated) past it. */
  logSizeMax: number;
  /** Bytes; -1 for no limit. Output past it is not logged (CRI-O's ExecSync cap). */
  logGlobalSizeMax: number;
  /** Rotate rather than truncate at logSizeMax, keeping logMaxFiles old logs. */
  logRotate: boolean;
  logMaxFiles: number;
  /** k8s-file logs must lie under one of these directories (symlinks resolved). */
  logAllowlistDirs: string[];
  /** journald: SYSLOG_IDENTIFIER and CONTAINER_TAG. */
  logTag?: string;
  /** journald: extra fields, each "KEY=VALUE" (KEY validated as conmon does). */
  logLabels: string[];
  /** journald: no CONTAINER_PARTIAL_MESSAGE=true on partial lines. */
  noContainerPartialMessage: boolean;
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
  /**
   * --restore: the checkpoint directory. The runtime then runs `restore`
   * (restoreArgv) instead of `create`; the container runs when it returns.
   */
  restore?: string;
  /**
   * --replace-listen-pid: when LISTEN_PID is set, the runtime gets its own
   * pid there (otherwise only if LISTEN_PID is the monitor's; listen_pid.ts).
   */
  replaceListenPid: boolean;
  /** ocimon's --preserve-fds (podman passes `--runtime-opt --preserve-fds`). */
  preserveFds: number;
  /** The host's sd_notify socket, to relay the container's notifications to. */
  sdnotifySocket?: string;
  /** Also send the monitor's own diagnostics to syslog (the journal). */
  syslog: boolean;
}

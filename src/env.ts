/**
 * The environment: every variable ocimon reads, what it means, and the one
 * place it is read. The rest of src/ takes what it needs from here, or as
 * parameters (one exception left: src/cli/parse.ts checks _OCI_ATTACHPIPE
 * itself).
 *
 * @module
 */

// --- set by the caller (podman, CRI-O), as for conmon: descriptor numbers ---

/** The sync pipe: we send the container's pid (or the error), and for exec its exit code. */
export const SYNC_PIPE_ENV = "_OCI_SYNCPIPE";
/**
 * The start pipe: the launcher blocks on it until the caller has put us in
 * our cgroup; an attached exec waits on it a second time ("attached, go on").
 */
export const START_PIPE_ENV = "_OCI_STARTPIPE";
/** The attach pipe (--exec-attach): we say on it that the attach socket listens. */
export const ATTACH_PIPE_ENV = "_OCI_ATTACHPIPE";

// --- set by ocimon for itself ---

/** Set by bin/ocimon: the command that starts this ocimon again (running from source). */
export const SELF_ENV = "_OCIMON_SELF";
/** Set by the launcher in the monitor's environment: this process is that monitor. */
export const MONITOR_ENV = "_OCIMON_MONITOR";
/** Set by the launcher: the k8s-file logs it opened, as descriptor numbers in --log-path order. */
export const LOG_FDS_ENV = "_OCIMON_LOG_FDS";

// --- set by a person ---

/**
 * A file for the monitor's diagnostics, which otherwise go to /dev/null with
 * the rest of its stdio (as conmon's).
 */
export const DEBUG_LOG_ENV = "OCIMON_DEBUG_LOG";

// --- the system's ---

/** Where `ocimon run` looks for runc and crun. */
export const PATH_ENV = "PATH";
/** Where the console socket (-t) is made. */
export const TMPDIR_ENV = "TMPDIR";

/** Variables that are ours alone: they never reach the runtime or the container. */
const OWN = new Set([SYNC_PIPE_ENV, START_PIPE_ENV, ATTACH_PIPE_ENV]);
const OWN_PREFIX = "_OCIMON_";

/** The descriptor number a pipe variable names, or undefined. Throws on a value that is none. */
/**
 * LISTEN_PID, from systemd's socket activation (with LISTEN_FDS): the pid
 * the passed sockets are meant for (see runtime/listen_pid.ts).
 */
export const LISTEN_PID_ENV = "LISTEN_PID";

/** LISTEN_PID as set, or undefined. */
export function listenPid(): string | undefined {
  return Deno.env.get(LISTEN_PID_ENV);
}

/** _OCI_ATTACHPIPE as set (checked by the parser before anything is made). */
export function attachPipeValue(): string | undefined {
  return Deno.env.get(ATTACH_PIPE_ENV);
}

export function pipeFdFromEnv(name: string): number | undefined {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return undefined;
  const fd = Number(raw);
  if (!Number.isInteger(fd) || fd < 0) {
    throw new Error(`${name}=${raw} is not a file descriptor number`);
  }
  return fd;
}

/** Removes a variable whose descriptor is closed: no later reader takes a reused number for it. */
export function forgetVariable(name: string): void {
  Deno.env.delete(name);
}

/** True in the monitor the launcher started (by re-executing ocimon). */
export function isMonitorProcess(): boolean {
  return Deno.env.get(MONITOR_ENV) === "1";
}

/** The command bin/ocimon says starts ocimon again, if it said one. */
export function selfLauncher(): string | undefined {
  return Deno.env.get(SELF_ENV) || undefined;
}

/** OCIMON_DEBUG_LOG, if set. */
export function debugLogPath(): string | undefined {
  return Deno.env.get(DEBUG_LOG_ENV) || undefined;
}

/** The directories of PATH (a default if it is unset). */
export function searchPath(): string {
  return Deno.env.get(PATH_ENV) ?? "/usr/bin:/bin";
}

/** The directory for temporary files: TMPDIR, else /tmp. */
export function tmpDir(): string {
  return Deno.env.get(TMPDIR_ENV) || "/tmp";
}

/**
 * In the monitor: the log descriptors the launcher handed over, taken out of
 * the environment (so that nothing started later sees them). Undefined when
 * the launcher handed none over.
 */
export function takeLogFds(): number[] | undefined {
  const value = Deno.env.get(LOG_FDS_ENV);
  if (value === undefined) return undefined;
  Deno.env.delete(LOG_FDS_ENV);
  return value === "" ? [] : value.split(",").map(Number);
}

/** The monitor's environment, as `KEY=value` strings: ours, and what the launcher hands over. */
export function monitorEnvironment(logFds: readonly number[]): string[] {
  return [
    ...entries(),
    `${MONITOR_ENV}=1`,
    `${LOG_FDS_ENV}=${logFds.join(",")}`,
  ];
}

/** Our environment less what is ours alone (the runtime's, the exit command's). */
export function childEnvironment(): string[] {
  return entries((name) => !OWN.has(name) && !name.startsWith(OWN_PREFIX));
}

function entries(keep: (name: string) => boolean = () => true): string[] {
  return Object.entries(Deno.env.toObject())
    .filter(([k]) => keep(k))
    .map(([k, v]) => `${k}=${v}`);
}

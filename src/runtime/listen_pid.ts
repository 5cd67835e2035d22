/**
 * Socket activation through the monitor (conmon's --replace-listen-pid):
 * systemd hands a service its sockets as fds 3.. with LISTEN_FDS=N and
 * LISTEN_PID=the pid they are meant for; a runtime (runc, crun) takes them
 * only if LISTEN_PID is its own pid. conmon, in the child it forks for the
 * runtime (src/conmon.c), reads LISTEN_PID when it is set: a value that is
 * not a positive number ends that child ("Invalid LISTEN_PID"); if
 * --replace-listen-pid was given, or LISTEN_PID is conmon's own pid, it sets
 * LISTEN_PID to the child's pid, which the runtime keeps across exec.
 *
 * ocimon spawns with posix_spawn, so the runtime's pid is not known before
 * it runs: withListenPid() starts the runtime through /bin/sh, which sets
 * LISTEN_PID to its own pid ($$) and execs the runtime in its place (same
 * pid, argv untouched). One exec of a small shell, only when it is needed.
 *
 * @module
 */

export type ListenPidPlan =
  /** LISTEN_PID unset, or not ours to replace: the environment goes as it is. */
  | { action: "keep" }
  /** Start the runtime with withListenPid(): LISTEN_PID becomes its own pid. */
  | { action: "replace" }
  /** conmon's runtime child exits with this (the create fails with it). */
  | { action: "refuse"; message: string };

/**
 * What conmon does with LISTEN_PID for the runtime it starts.
 * `monitorPid` is the runtime's parent: the monitor proper (conmon's
 * getppid() in the child).
 */
export function listenPidPlan(
  listenPid: string | undefined,
  monitorPid: number,
  replace: boolean,
): ListenPidPlan {
  if (listenPid === undefined) return { action: "keep" };
  const lpid = strtolInt(listenPid);
  if (lpid === undefined || lpid <= 0) {
    return { action: "refuse", message: `Invalid LISTEN_PID ${listenPid.slice(0, 10)}` };
  }
  return replace || lpid === monitorPid ? { action: "replace" } : { action: "keep" };
}

/** The runtime's argv, run so that LISTEN_PID is the runtime's own pid. */
export function withListenPid(argv: readonly string[]): string[] {
  return ["/bin/sh", "-c", 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"', ...argv];
}

const LONG = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/**
 * `int lpid = strtol(s, NULL, 10)` with conmon's errno check: leading white
 * space, a sign, decimal digits, anything after them ignored; undefined on
 * overflow (ERANGE); no digits is 0; the long is then cut to a C int.
 */
export function strtolInt(s: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s)!;
  if (m[2] === "") return 0;
  const value = BigInt(m[2]) * (m[1] === "-" ? -1n : 1n);
  if (value < LONG.min || value > LONG.max) return undefined;
  return Number(BigInt.asIntN(32, value));
}

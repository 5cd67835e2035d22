/**
 * Which of ocimon's two processes this is. The launcher, which the caller
 * starts, re-executes ocimon as the monitor proper with DAEMON_ENV set (see
 * daemon.ts). Kept apart so that the monitor never loads the launcher's code.
 *
 * @module
 */

/** Set in the monitor proper's environment; never passed further. */
export const DAEMON_ENV = "_OCIMON_DAEMON";

export function isDaemon(): boolean {
  return Deno.env.get(DAEMON_ENV) === "1";
}

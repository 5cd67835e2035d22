/**
 * ocimon's diagnostics: every "what went wrong" goes through diag(), so
 * that there is one place to send it. By default a line on stderr (which,
 * in the monitor the launcher starts, is /dev/null or OCIMON_DEBUG_LOG);
 * addDiagSink() adds more destinations, useSyslog() the system log. A
 * diagnostic never throws: reporting a fault must not become another one.
 * They are warnings, or errors that end the monitor; --log-level error (or
 * fatal, panic) keeps the errors alone, as conmon's (ocimon has no info or
 * debug messages for the levels above). Why ocimon fails, with exit status
 * 1, is said by fatal() (or usageFailure() for a bad command line).
 *
 * @module
 */

/**
 * Structured fields for sinks that keep them (the journal): MESSAGE_ID and
 * the like, journald's KEY=VALUE names.
 */
export type DiagFields = Record<string, string>;

export type DiagSink = (message: string, fields?: DiagFields) => void;

const sinks: DiagSink[] = [(message) => console.error(`ocimon: ${message}`)];
const said = new Set<string>();
let errorsOnly = false;

/** From --log-level: error, fatal and panic say errors alone (no warnings). */
export function setDiagLevel(logLevel: string): void {
  errorsOnly = ["error", "fatal", "panic"].includes(logLevel);
}

/**
 * Says `message` (one line, no "ocimon:" prefix) to every sink: a warning
 * unless `level` is "error"; `fields` go to the sinks that keep them.
 */
export function diag(
  message: string,
  level: "warn" | "error" = "warn",
  fields?: DiagFields,
): void {
  if (level === "warn" && errorsOnly) return;
  for (const sink of sinks) {
    try {
      sink(message, fields);
    } catch { /* nowhere left to say it */ }
  }
}

/** Says `message` the first time `key` comes up; later calls are silent. */
export function diagOnce(key: string, message: string): void {
  if (said.has(key)) return;
  said.add(key);
  diag(message);
}

/** Sends every later diagnostic to `sink` as well. */
export function addDiagSink(sink: DiagSink): void {
  sinks.push(sink);
}

/** With --syslog: where a failure is also said, at error priority. */
let failureSink: DiagSink | undefined;

/**
 * --syslog, as conmon's (podman 5 always passes it, podman 4 at --log-level debug): diagnostics also go to
 * the system log, a failure (fatal()) at error priority, the rest as warnings.
 */
export async function useSyslog(cid: string, name?: string): Promise<void> {
  const { Syslog, LOG_ERR, LOG_WARNING } = await import("./sys/syslog.ts");
  // Structured records (an OOM kill's) carry the container's id and name.
  const log = new Syslog(cid, undefined, undefined, {
    CONTAINER_ID_FULL: cid,
    ...(name ? { CONTAINER_NAME: name } : {}),
  });
  addDiagSink((m, fields) => log.send(LOG_WARNING, m, fields));
  failureSink = (m) => log.send(LOG_ERR, m);
}

/** Says why ocimon fails (stderr, and the system log with --syslog); returns exit status 1. */
export function fatal(message: string): number {
  console.error(`ocimon: ${message}`);
  failureSink?.(message);
  return 1;
}

/**
 * Says what is wrong with the command line (in conmon's words where conmon
 * has them), then a hint of ocimon's own; returns exit status 1.
 */
export function usageFailure(message: string, hint?: string): number {
  console.error(`ocimon: ${message}`);
  console.error(hint ?? "Try 'ocimon --help' for the list of options.");
  return 1;
}

/** An error's message, for a diagnostic line (no stack). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

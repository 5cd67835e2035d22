/**
 * The monitor's diagnostics: every "what went wrong" goes through diag(), so
 * that there is one place to send it. By default a line on stderr (which the
 * daemon points at /dev/null, or at OCIMON_DEBUG_LOG); addDiagSink() adds
 * more destinations (syslog). A diagnostic never throws: reporting a fault
 * must not become another one. They are warnings, or errors that end the
 * monitor; --log-level error (or fatal, panic) keeps the errors alone, as
 * conmon's (ocimon has no info or debug messages for the levels above).
 *
 * @module
 */

export type DiagSink = (message: string) => void;

const sinks: DiagSink[] = [(message) => console.error(`ocimon: ${message}`)];
const said = new Set<string>();
let errorsOnly = false;

/** From --log-level: error, fatal and panic say errors alone (no warnings). */
export function setDiagLevel(logLevel: string): void {
  errorsOnly = ["error", "fatal", "panic"].includes(logLevel);
}

/**
 * Says `message` (one line, no "ocimon:" prefix) to every sink: a warning
 * unless `level` is "error".
 */
export function diag(message: string, level: "warn" | "error" = "warn"): void {
  if (level === "warn" && errorsOnly) return;
  for (const sink of sinks) {
    try {
      sink(message);
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

/** An error's message, for a diagnostic line (no stack). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

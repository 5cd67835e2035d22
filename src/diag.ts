/**
 * The monitor's diagnostics: every "what went wrong" goes through diag(), so
 * that there is one place to send it. By default a line on stderr (which the
 * daemon points at /dev/null, or at OCIMON_DEBUG_LOG); addDiagSink() adds
 * more destinations (syslog). A diagnostic never throws: reporting a fault
 * must not become another one.
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

/** Says `message` (one line, no "ocimon:" prefix) to every sink. */
export function diag(message: string, fields?: DiagFields): void {
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

/** An error's message, for a diagnostic line (no stack). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A k8s-file log as the tests read it: its records without timestamps.
 *
 * @module
 */

/** The records of a k8s-file log: [stream, tag, text]; throws on a malformed line. */
export function records(log: string): [string, string, string][] {
  return log.split("\n").filter(Boolean).map((l) => {
    const m = /^\S+ (stdout|stderr) ([FP]) (.*)$/.exec(l);
    if (!m) throw new Error(`malformed log line: ${JSON.stringify(l.slice(0, 200))}`);
    return [m[1], m[2], m[3]];
  });
}

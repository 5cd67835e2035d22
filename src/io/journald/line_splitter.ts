/**
 * How the journald driver cuts container output into entries, as conmon
 * main cuts it: one entry a line, the newline kept. The start of a line that
 * has no newline yet waits (per stream, up to one read of STDIO_BUF_SIZE)
 * for the rest; a line that outgrows that goes out in pieces marked
 * partial; what still waits when the container is gone goes out, partial,
 * at flush(). A line that starts with a syslog priority prefix "<N>" (N 0-7)
 * is logged at that priority, without the prefix (conmon main; 2.1.x logs
 * the prefix as text). Pure: no journal, so that the cutting can be tested
 * on its own.
 *
 * @module
 */
import { STDIO_BUF_SIZE, type Stream } from "../stream.ts";

const NL = 0x0a;
const PRIORITY_STDOUT = 6;
const PRIORITY_STDERR = 3;

/** One entry to be: the message bytes (a view, valid during the call only). */
export type EmitEntry = (message: Uint8Array, priority: number, partial: boolean) => void;

/** Cuts container output into journal entries as conmon main does. */
export class JournalLineSplitter {
  #held: Record<Stream, Uint8Array> = {
    stdout: new Uint8Array(STDIO_BUF_SIZE),
    stderr: new Uint8Array(STDIO_BUF_SIZE),
  };
  #heldLen: Record<Stream, number> = { stdout: 0, stderr: 0 };
  #joined = new Uint8Array(2 * STDIO_BUF_SIZE);

  /** Cuts one chunk; `emit` is called for each entry it completes. */
  split(stream: Stream, chunk: Uint8Array, emit: EmitEntry): void {
    if (chunk.length > 0) this.#cut(stream, chunk, emit);
  }

  /** Sends what still waits for the rest of its line, as a partial entry. */
  flush(stream: Stream, emit: EmitEntry): void {
    const n = this.#heldLen[stream];
    if (n === 0) return;
    this.#heldLen[stream] = 0;
    emit(this.#held[stream].subarray(0, n), defaultPriority(stream), true);
  }

  #cut(stream: Stream, chunk: Uint8Array, emit: EmitEntry): void {
    const held = this.#held[stream];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const partial = nl < 0;
      const end = partial ? chunk.length : nl + 1;
      const heldLen = this.#heldLen[stream];
      if (partial && end - start < STDIO_BUF_SIZE - heldLen) {
        held.set(chunk.subarray(start, end), heldLen);
        this.#heldLen[stream] = heldLen + end - start;
        return;
      }
      let priority = defaultPriority(stream);
      let from = start;
      if (heldLen === 0) {
        const p = priorityPrefix(chunk, start, end);
        if (p >= 0) {
          priority = p;
          from += 3;
        }
      }
      let message: Uint8Array;
      if (heldLen === 0) {
        message = chunk.subarray(from, end);
      } else {
        const size = heldLen + end - from;
        if (this.#joined.length < size) this.#joined = new Uint8Array(size);
        this.#joined.set(held.subarray(0, heldLen));
        this.#joined.set(chunk.subarray(from, end), heldLen);
        message = this.#joined.subarray(0, size);
        this.#heldLen[stream] = 0;
      }
      emit(message, priority, partial);
      start = end;
    }
  }
}

function defaultPriority(stream: Stream): number {
  return stream === "stderr" ? PRIORITY_STDERR : PRIORITY_STDOUT;
}

/** The priority of a line that starts "<N>" (N 0-7), or -1. */
function priorityPrefix(b: Uint8Array, start: number, end: number): number {
  if (end - start < 3 || b[start] !== 0x3c || b[start + 2] !== 0x3e) return -1;
  const d = b[start + 1] - 0x30;
  return d >= 0 && d <= 7 ? d : -1;
}

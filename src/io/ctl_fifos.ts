/**
 * The control FIFOs in the bundle, in conmon's formats:
 *   `ctl`:   "TYPE ARG1 ARG2\n" — type 1 resizes the terminal to ARG1 rows
 *            and ARG2 columns, type 2 reopens the log files;
 *   `winsz`: "ROWS COLS\n" — resizes the terminal.
 * Each FIFO is held open for writing by ourselves too, so that a writer
 * closing it does not flood us with hang-ups.
 *
 * @module
 */
import { join } from "../util/path.ts";
import { closeQuietly, openRaw, readSome } from "../sys/fd.ts";
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY } from "../sys/libc.ts";
import type { Poller } from "../sys/poller.ts";
import { makeFifo } from "../sys/socket.ts";
import { diag } from "../diag.ts";

export const WIN_RESIZE_EVENT = 1;
export const REOPEN_LOGS_EVENT = 2;

export interface ControlHandlers {
  onResize(rows: number, cols: number): void;
  onReopenLogs(): void;
}

/** conmon main's bound on either side of a window size. */
export const MAX_WINDOW_SIDE = 1000;

/**
 * Parses one `ctl` line as conmon's sscanf("%d %d %d") reads it: three
 * integers lead the line and whatever follows them is ignored (`1 2 2 3`
 * resizes to 2x2). Undefined for a malformed line, an unknown type, or a
 * size outside 0..1000 (conmon main's check, applied to every type).
 */
export function parseCtlLine(line: string): { type: number; a: number; b: number } | undefined {
  const m = /^\s*([+-]?\d+)\s+([+-]?\d+)\s+([+-]?\d+)/.exec(line);
  if (!m) return undefined;
  const [type, a, b] = [m[1], m[2], m[3]].map(Number);
  if (type !== WIN_RESIZE_EVENT && type !== REOPEN_LOGS_EVENT) return undefined;
  return inWindowBounds(a, b) ? { type, a, b } : undefined;
}

/** Parses one `winsz` line ("%d %d", sizes in 0..1000); undefined otherwise. */
export function parseWinszLine(line: string): { rows: number; cols: number } | undefined {
  const m = /^\s*([+-]?\d+)\s+([+-]?\d+)/.exec(line);
  if (!m) return undefined;
  const [rows, cols] = [Number(m[1]), Number(m[2])];
  return inWindowBounds(rows, cols) ? { rows, cols } : undefined;
}

/** Negative, overflowing and huge sizes are refused (conmon main). */
function inWindowBounds(rows: number, cols: number): boolean {
  return rows >= 0 && cols >= 0 && rows <= MAX_WINDOW_SIDE && cols <= MAX_WINDOW_SIDE;
}

class LineFifo {
  readonly path: string;
  #r: number;
  #w: number;
  #pending = "";
  #buf = new Uint8Array(200);

  constructor(dir: string, name: string, poller: Poller, onLine: (line: string) => void) {
    this.path = join(dir, name);
    makeFifo(this.path);
    this.#r = openRaw(this.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    this.#w = openRaw(this.path, O_WRONLY | O_CLOEXEC);
    poller.add(this.#r, () => {
      for (let n; (n = readSome(this.#r, this.#buf)) > 0;) {
        this.#pending += new TextDecoder().decode(this.#buf.subarray(0, n));
      }
      let nl;
      while ((nl = this.#pending.indexOf("\n")) >= 0) {
        const line = this.#pending.slice(0, nl);
        this.#pending = this.#pending.slice(nl + 1);
        onLine(line);
      }
      if (this.#pending.length > 200) this.#pending = ""; // no newline in sight: garbage
      return true;
    });
  }

  close(poller: Poller): void {
    poller.remove(this.#r);
    closeQuietly(this.#r);
    closeQuietly(this.#w);
  }
}

export class ControlFifos {
  #fifos: LineFifo[];

  constructor(readonly poller: Poller, bundle: string, handlers: ControlHandlers) {
    const ctl = new LineFifo(bundle, "ctl", poller, (line) => {
      const msg = parseCtlLine(line);
      if (!msg) return diag(`invalid ctl message '${line}'`);
      if (msg.type === WIN_RESIZE_EVENT) handlers.onResize(msg.a, msg.b);
      else handlers.onReopenLogs();
    });
    const winsz = new LineFifo(bundle, "winsz", poller, (line) => {
      const msg = parseWinszLine(line);
      if (msg) handlers.onResize(msg.rows, msg.cols);
      else diag(`invalid winsz message '${line}'`);
    });
    this.#fifos = [ctl, winsz];
  }

  close(): void {
    for (const f of this.#fifos) f.close(this.poller);
  }
}

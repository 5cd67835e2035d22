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

export const WIN_RESIZE_EVENT = 1;
export const REOPEN_LOGS_EVENT = 2;

export interface ControlHandlers {
  onResize(rows: number, cols: number): void;
  onReopenLogs(): void;
}

/** Parses one `ctl` line; undefined for a malformed one. */
export function parseCtlLine(line: string): { type: number; a: number; b: number } | undefined {
  const m = /^\s*(-?\d+)\s+(-?\d+)\s+(-?\d+)\s*$/.exec(line);
  return m ? { type: Number(m[1]), a: Number(m[2]), b: Number(m[3]) } : undefined;
}

/** Parses one `winsz` line; undefined for a malformed one. */
export function parseWinszLine(line: string): { rows: number; cols: number } | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
  return m ? { rows: Number(m[1]), cols: Number(m[2]) } : undefined;
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
      if (!msg) return console.error(`ocimon: malformed ctl message '${line}'`);
      if (msg.type === WIN_RESIZE_EVENT) handlers.onResize(msg.a, msg.b);
      else if (msg.type === REOPEN_LOGS_EVENT) handlers.onReopenLogs();
      else console.error(`ocimon: unknown ctl message type ${msg.type}`);
    });
    const winsz = new LineFifo(bundle, "winsz", poller, (line) => {
      const msg = parseWinszLine(line);
      if (msg) handlers.onResize(msg.rows, msg.cols);
      else console.error(`ocimon: malformed winsz message '${line}'`);
    });
    this.#fifos = [ctl, winsz];
  }

  close(): void {
    for (const f of this.#fifos) f.close(this.poller);
  }
}

/**
 * The k8s-file log driver: the CRI log format that podman and the kubelet
 * read. Each line of container output becomes
 *
 *     TIMESTAMP STREAM TAG CONTENT\n
 *
 * with TIMESTAMP in RFC 3339 with nanoseconds, STREAM `stdout` or `stderr`,
 * and TAG `F` for a full line or `P` for a partial one (output that did not
 * end in a newline within one read). As conmon, a chunk is never held back
 * waiting for the rest of its line: a partial line is written at once, `P`.
 *
 * @module
 */
import { closeQuietly, openRaw } from "../sys/fd.ts";
import {
  EINTR,
  errno,
  libc,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_TRUNC,
  O_WRONLY,
  SEEK_CUR,
  strerror,
} from "../sys/libc.ts";
import { rfc3339Nano } from "../sys/time.ts";
import { diag } from "../diag.ts";
import type { Stream } from "./stream.ts";

const NL = 0x0a;
const encoder = new TextEncoder();

/**
 * Formats chunks of container output as k8s-file lines, all of a chunk's
 * lines stamped alike, into one buffer so that a chunk is one write(2).
 *
 * The log path formats a chunk per 8 KiB read (~25,000 for 200 MB), so the
 * buffers are reused: a result is valid only until the next call. Newlines
 * are found once, with indexOf (native) rather than a byte loop, since the
 * monitor may run without V8's optimizing tiers (see bin/ocimon).
 */
export class K8sLineFormatter {
  #out = new Uint8Array(0);
  #newlines = new Int32Array(0);

  format(stream: Stream, chunk: Uint8Array, timestamp: string): Uint8Array<ArrayBuffer> {
    const full = encoder.encode(`${timestamp} ${stream} F `);
    const partialTagAt = full.length - 2;
    if (this.#newlines.length < chunk.length) this.#newlines = new Int32Array(chunk.length);
    const newlines = this.#newlines;
    let lines = 0;
    for (let i = chunk.indexOf(NL); i >= 0; i = chunk.indexOf(NL, i + 1)) newlines[lines++] = i;
    const endsPartial = chunk.length > 0 && chunk[chunk.length - 1] !== NL;
    const records = lines + (endsPartial ? 1 : 0);
    const size = chunk.length + records * full.length + (endsPartial ? 1 : 0);
    if (this.#out.length < size) {
      this.#out = new Uint8Array(Math.max(size, 2 * this.#out.length));
    }
    const out = this.#out;
    let o = 0;
    let start = 0;
    for (let r = 0; r < records; r++) {
      const partial = r === lines;
      const end = partial ? chunk.length : newlines[r];
      out.set(full, o);
      if (partial) out[o + partialTagAt] = 0x50; // 'P'
      o += full.length;
      out.set(chunk.subarray(start, end), o);
      o += end - start;
      out[o++] = NL;
      start = end + 1;
    }
    return out.subarray(0, o);
  }
}

/** How a k8s-file log is kept within bounds (from --log-size-max and friends). */
export interface K8sLogLimits {
  /** Bytes per file; past it the file starts over (or rotates). -1: no limit. */
  sizeMax?: number;
  /** Bytes written in all, across start-overs; past it nothing more is logged. -1: no limit. */
  globalSizeMax?: number;
  /** Rotate to PATH.1 ... PATH.maxFiles instead of starting over. */
  rotate?: boolean;
  maxFiles?: number;
}

/** Opens (creating, never its directory) a k8s-file log for appending, as conmon: mode 0640. */
export function openK8sLogFile(path: string): number {
  return openRaw(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, LOG_MODE);
}

const LOG_MODE = 0o640;
const NEWLINE = new Uint8Array([NL]);

/**
 * An open k8s-file log. Writing never throws: what the file does not take
 * (a full or failing filesystem) is dropped and counted, said once in the
 * diagnostics, and each later write tries again, so logging resumes by
 * itself when there is room. The container's output is read on regardless.
 */
export class K8sFileLog {
  #fd: number;
  /** Bytes in the current file (for sizeMax). */
  #written = 0;
  /** Bytes written since the log was opened, start-overs included (for globalSizeMax). */
  #total = 0;
  #formatter = new K8sLineFormatter();
  readonly sizeMax: number;
  readonly globalSizeMax: number;
  readonly rotate: boolean;
  readonly maxFiles: number;
  /** A failed write left a record without its newline; the next write ends it. */
  #torn = false;
  #failing = false;
  #capped = false;
  /** Output lost to write errors: bytes and failed writes, in all. */
  droppedBytes = 0;
  droppedWrites = 0;
  #droppedAtFailure = 0;

  /**
   * `fd` is the log already open (the launcher opens it before anything is
   * created); without one the path is opened here.
   */
  constructor(readonly path: string, limits: K8sLogLimits = {}, fd?: number) {
    this.sizeMax = limits.sizeMax ?? -1;
    this.globalSizeMax = limits.globalSizeMax ?? -1;
    this.rotate = limits.rotate ?? false;
    this.maxFiles = Math.max(1, limits.maxFiles ?? 1);
    this.#fd = fd ?? openK8sLogFile(path);
    try {
      this.#written = this.#total = Deno.statSync(path).size;
    } catch { /* a fresh file */ }
  }

  write(stream: Stream, chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#fd < 0) return;
    const data = this.#formatter.format(stream, chunk, rfc3339Nano());
    if (
      (this.sizeMax <= 0 || this.#written + data.length <= this.sizeMax) &&
      (this.globalSizeMax <= 0 || this.#total + data.length <= this.globalSizeMax)
    ) {
      this.#put(data);
      return;
    }
    // At a limit: go record by record, as conmon does.
    let start = 0;
    while (start < data.length) {
      if (this.globalSizeMax > 0 && this.#total >= this.globalSizeMax) {
        if (!this.#capped) {
          this.#capped = true;
          say(
            `log ${this.path} reached --log-global-size-max; the rest of the output is not logged`,
          );
        }
        return;
      }
      const end = data.indexOf(NL, start) + 1;
      const record = data.subarray(start, end);
      if (this.sizeMax > 0 && this.#written > 0 && this.#written + record.length > this.sizeMax) {
        if (this.rotate) this.#rotate();
        else this.#startOver();
      }
      this.#put(record);
      start = end;
    }
  }

  /** Writes all of `data` or drops the rest of it; never throws. */
  #put(data: Uint8Array<ArrayBuffer>): void {
    if (this.#torn) {
      if (this.#writeSome(NEWLINE) < 0) return this.#drop(data.length);
      this.#torn = false;
    }
    let off = 0;
    while (off < data.length) {
      const n = this.#writeSome(off === 0 ? data : data.subarray(off));
      if (n < 0) {
        // Keep the whole records that made it; take back the piece of one that did not.
        const keep = off > 0 ? data.lastIndexOf(NL, off - 1) + 1 : 0;
        if (off > keep) this.#torn = !this.#unwrite(off - keep);
        return this.#drop(data.length - keep, -n);
      }
      off += n;
    }
    if (this.#failing) this.#resumed();
  }

  /** One write(2), retried on EINTR: bytes written, or -errno. */
  #writeSome(data: Uint8Array<ArrayBuffer>): number {
    for (;;) {
      const n = Number(libc.write(this.#fd, data, BigInt(data.byteLength)));
      if (n >= 0) {
        this.#written += n;
        this.#total += n;
        return n;
      }
      const e = errno();
      if (e !== EINTR) return -e;
    }
  }

  /** Cuts the last `bytes` written off the file again; false if it cannot. */
  #unwrite(bytes: number): boolean {
    // With O_APPEND the offset is the end of what was just written.
    const end = Number(libc.lseek(this.#fd, 0n, SEEK_CUR));
    if (end < bytes || libc.ftruncate(this.#fd, BigInt(end - bytes)) !== 0) return false;
    this.#written -= bytes;
    this.#total -= bytes;
    return true;
  }

  #drop(bytes: number, code = 0): void {
    this.droppedBytes += bytes;
    this.droppedWrites++;
    if (this.#failing) return;
    this.#failing = true;
    this.#droppedAtFailure = this.droppedBytes - bytes;
    say(
      `log ${this.path}: cannot write (${code ? strerror(code) : "short write"}); ` +
        "dropping output until it can be written",
    );
  }

  #resumed(): void {
    this.#failing = false;
    say(
      `log ${this.path}: writing again after dropping ${
        this.droppedBytes - this.#droppedAtFailure
      } bytes of output`,
    );
  }

  /** Opens `tmp` afresh; undefined (said) if it cannot be. */
  #openFresh(tmp: string, why: string): number | undefined {
    try {
      return openRaw(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, LOG_MODE);
    } catch (err) {
      say(`log ${this.path}: cannot ${why}: ${(err as Error).message}`);
      return undefined;
    }
  }

  #adopt(fd: number): void {
    closeQuietly(this.#fd);
    this.#fd = fd;
    this.#written = 0;
    this.#torn = false;
  }

  /**
   * Starts the log over, as conmon: a new empty file renamed over the path,
   * so that a watcher of the directory sees it at once. On failure the old
   * file is kept.
   */
  #startOver(): void {
    const tmp = `${this.path}.tmp`;
    const fd = this.#openFresh(tmp, "start over");
    if (fd === undefined) return;
    try {
      Deno.renameSync(tmp, this.path);
    } catch (err) {
      say(`log ${this.path}: cannot start over: ${(err as Error).message}`);
      closeQuietly(fd);
      tryRemove(tmp);
      return;
    }
    this.#adopt(fd);
  }

  /** --log-rotate: PATH.N-1 to PATH.N, ..., PATH to PATH.1, and a new file at PATH. */
  #rotate(): void {
    const tmp = `${this.path}.new`;
    const fd = this.#openFresh(tmp, "rotate");
    if (fd === undefined) return;
    try {
      for (let i = this.maxFiles; i >= 2; i--) {
        tryRename(`${this.path}.${i - 1}`, `${this.path}.${i}`);
      }
      tryRename(this.path, `${this.path}.1`);
      Deno.renameSync(tmp, this.path);
    } catch (err) {
      say(`log ${this.path}: cannot rotate: ${(err as Error).message}`);
      closeQuietly(fd);
      tryRemove(tmp);
      return;
    }
    this.#adopt(fd);
  }

  /**
   * The `ctl` reopen message (after log rotation by the kubelet): as conmon,
   * a new file renamed over the path (rotated first with --log-rotate).
   * Never throws; on failure the log goes on in the old file.
   */
  reopen(): void {
    if (this.#fd < 0) return;
    if (this.rotate) this.#rotate();
    else this.#startOver();
  }

  close(): void {
    closeQuietly(this.#fd);
    this.#fd = -1;
  }
}

/** A diagnostic line (diag() never throws, even when its own disk is full too). */
function say(message: string): void {
  diag(message);
}

/** rename(2); a missing source is fine (no such backup yet). */
function tryRename(from: string, to: string): void {
  try {
    Deno.renameSync(from, to);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

function tryRemove(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* gone */ }
}

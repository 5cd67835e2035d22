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
import { dirname } from "../util/path.ts";
import { closeQuietly, openRaw, writeAll } from "../sys/fd.ts";
import { O_CLOEXEC, O_WRONLY } from "../sys/libc.ts";
import { rfc3339Nano } from "../sys/time.ts";

export type Stream = "stdout" | "stderr";

const O_CREAT = 0o100;
const O_APPEND = 0o2000;
const O_TRUNC = 0o1000;
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

/** An open k8s-file log, appended to and truncated at `sizeMax` bytes. */
export class K8sFileLog {
  #fd: number;
  #written = 0;
  #formatter = new K8sLineFormatter();

  constructor(readonly path: string, readonly sizeMax = -1) {
    this.#fd = K8sFileLog.#open(path, O_APPEND);
    try {
      this.#written = Deno.statSync(path).size;
    } catch { /* a fresh file */ }
  }

  static #open(path: string, extra: number): number {
    Deno.mkdirSync(dirname(path), { recursive: true });
    return openRaw(path, O_WRONLY | O_CREAT | O_CLOEXEC | extra, 0o600);
  }

  write(stream: Stream, chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const data = this.#formatter.format(stream, chunk, rfc3339Nano());
    if (this.sizeMax <= 0 || this.#written + data.length <= this.sizeMax) {
      writeAll(this.#fd, data);
      this.#written += data.length;
      return;
    }
    // Over the limit: go record by record, starting over where one would not fit.
    let start = 0;
    while (start < data.length) {
      const end = data.indexOf(NL, start) + 1;
      const record = data.subarray(start, end);
      if (this.#written > 0 && this.#written + record.length > this.sizeMax) this.#truncate();
      writeAll(this.#fd, record);
      this.#written += record.length;
      start = end;
    }
  }

  /** Starts the log over, as conmon does when --log-size-max is reached. */
  #truncate(): void {
    const tmp = `${this.path}.tmp`;
    const fd = K8sFileLog.#open(tmp, O_TRUNC);
    Deno.renameSync(tmp, this.path);
    closeQuietly(this.#fd);
    this.#fd = fd;
    this.#written = 0;
  }

  /** Reopens the path (after log rotation by someone else). */
  reopen(): void {
    const fd = K8sFileLog.#open(this.path, O_APPEND);
    closeQuietly(this.#fd);
    this.#fd = fd;
    try {
      this.#written = Deno.statSync(this.path).size;
    } catch {
      this.#written = 0;
    }
  }

  close(): void {
    closeQuietly(this.#fd);
    this.#fd = -1;
  }
}

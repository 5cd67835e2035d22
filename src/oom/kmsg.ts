/**
 * Reads the kernel's log records from /dev/kmsg, without blocking.
 *
 * One read(2) of /dev/kmsg returns one record, `PRIO,SEQ,TIME,FLAGS[,...];MESSAGE`
 * then dictionary lines that start with a space (`SUBSYSTEM=`, `DEVICE=`).
 * The reader is positioned at the end when opened, so it only gives records
 * logged after the open. Records overwritten before we read them are counted,
 * not fatal: the kernel answers EPIPE once and goes on from the oldest record
 * it still holds.
 *
 * Opening /dev/kmsg for reading needs CAP_SYSLOG when kernel.dmesg_restrict=1
 * (rootless monitors usually cannot): `KmsgReader.open()` then says why in one
 * line instead of throwing. The monitor loads this module only when it needs
 * it, so it imports nothing but the libc binding.
 *
 * @module
 */
import {
  cstr,
  EAGAIN,
  EINTR,
  errno,
  libc,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  strerror,
  SysError,
} from "../sys/libc.ts";

/** One record of the kernel log. */
export interface KmsgRecord {
  /** The syslog facility: 0 is the kernel itself; anything written to /dev/kmsg is 1 or more. */
  facility: number;
  /** The log level, 0 (emergency) to 7 (debug). */
  level: number;
  /** The record's sequence number: consecutive unless records were lost. */
  seq: number;
  /** When it was logged, in microseconds since boot. */
  usec: number;
  /** The text, with the kernel's \xNN escapes undone. */
  message: string;
  /** FLAGS was `c` (or `+` before 4.9): a piece printed with pr_cont that could not join its line. */
  cont: boolean;
  /** The `caller=T123` (or `C1`) field of kernels built with CONFIG_PRINTK_CALLER. */
  caller?: string;
}

const decoder = new TextDecoder();

/** Undoes the \xNN escapes of a record's text (the kernel escapes bytes < 32, >= 127, and `\`). */
function unescape(text: string): string {
  if (!text.includes("\\")) return text;
  const bytes = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c && text[i + 1] === "x") {
      const hex = text.slice(i + 2, i + 4);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes[n++] = parseInt(hex, 16);
        i += 3;
        continue;
      }
    }
    bytes[n++] = c & 0xff;
  }
  return decoder.decode(bytes.subarray(0, n));
}

const DIGITS = /^\d+$/;

/**
 * Parses one record as /dev/kmsg gives it. Dictionary lines (those after the
 * first newline) are not part of the message. Returns undefined when the
 * prefix is malformed.
 */
export function parseKmsgRecord(raw: string): KmsgRecord | undefined {
  const nl = raw.indexOf("\n");
  const line = nl < 0 ? raw : raw.slice(0, nl);
  const semi = line.indexOf(";");
  if (semi < 0) return undefined;
  const head = line.slice(0, semi).split(",");
  if (head.length < 4) return undefined;
  const [prio, seq, usec, flags] = head;
  if (!DIGITS.test(prio) || !DIGITS.test(seq) || !DIGITS.test(usec) || flags.length !== 1) {
    return undefined;
  }
  const p = Number(prio);
  const rec: KmsgRecord = {
    facility: p >> 3,
    level: p & 7,
    seq: Number(seq),
    usec: Number(usec),
    message: unescape(line.slice(semi + 1)),
    cont: flags === "c" || flags === "+",
  };
  const caller = head.slice(4).find((f) => f.startsWith("caller="));
  if (caller) rec.caller = caller.slice("caller=".length);
  return rec;
}

const EPERM = 1;
const ENOENT = 2;
const EACCES = 13;
const EINVAL = 22;
const EPIPE = 32;
const SEEK_END = 2;

/** The kernel formats a record into 8 KiB at most (CONSOLE_EXT_LOG_MAX). */
const RECORD_BUFFER = 16384;

export const KMSG_PATH = "/dev/kmsg";

/** A non-blocking reader of the kernel log, from the moment it was opened. */
export class KmsgReader {
  readonly #path: string;
  #fd: number;
  readonly #buf = new Uint8Array(RECORD_BUFFER);
  /** Sequence number of the last record read, to count the ones lost in between. */
  #lastSeq: number | undefined;

  private constructor(path: string, fd: number) {
    this.#path = path;
    this.#fd = fd;
  }

  /**
   * Opens the log (`path` is for tests), positioned after its last record.
   * Returns a one-line reason when it cannot be read.
   */
  static open(path: string = KMSG_PATH): KmsgReader | string {
    const fd = libc.open(cstr(path), O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) {
      const e = errno();
      if (e === EPERM || e === EACCES) {
        return `cannot read ${path}: ${
          strerror(e)
        } (it needs CAP_SYSLOG, or kernel.dmesg_restrict=0)`;
      }
      if (e === ENOENT) return `no ${path} on this system`;
      return `cannot open ${path}: ${strerror(e)}`;
    }
    if (libc.lseek(fd, 0n, SEEK_END) < 0n) {
      const e = errno();
      libc.close(fd);
      return `cannot seek to the end of ${path}: ${strerror(e)}`;
    }
    return new KmsgReader(path, fd);
  }

  /** The descriptor, for a poller: readable when a record is waiting. */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Every record available now, up to `max`, without blocking. `lost` counts
   * the records the kernel overwrote (or could not fit in our buffer) before
   * we read them: the gap in sequence numbers, at least one for each EPIPE.
   */
  read(max = 4096): { records: KmsgRecord[]; lost: number } {
    const records: KmsgRecord[] = [];
    let lost = 0;
    let overrun = false;
    if (this.#fd < 0) return { records, lost };
    for (let steps = 0; steps < max;) {
      const n = Number(libc.read(this.#fd, this.#buf, BigInt(this.#buf.byteLength)));
      if (n < 0) {
        const e = errno();
        if (e === EINTR) continue;
        if (e === EAGAIN) break;
        steps++;
        if (e === EPIPE || e === EINVAL) {
          // EPIPE: overwritten, and the kernel moved us to the oldest record it
          // has. EINVAL: a record too long for the buffer, already skipped.
          overrun = true;
          continue;
        }
        throw new SysError("read", e, this.#path);
      }
      if (n === 0) break;
      steps++;
      const rec = parseKmsgRecord(decoder.decode(this.#buf.subarray(0, n)));
      if (!rec) continue;
      if (this.#lastSeq !== undefined && rec.seq > this.#lastSeq + 1) {
        lost += rec.seq - this.#lastSeq - 1;
        overrun = false;
      } else if (overrun) {
        lost += 1;
        overrun = false;
      }
      this.#lastSeq = rec.seq;
      records.push(rec);
    }
    if (overrun) lost += 1;
    return { records, lost };
  }

  /** Closes the descriptor; later reads return nothing. */
  close(): void {
    if (this.#fd >= 0) libc.close(this.#fd);
    this.#fd = -1;
  }
}

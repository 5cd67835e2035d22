/**
 * The container's stdio pipes: created before the runtime starts, read on
 * the poller, and fanned out to sinks (log drivers, attach clients, the
 * terminal in `ocimon run`). Reads are STDIO_BUF_SIZE bytes (stream.ts), as
 * conmon's, so partial-line splits in the log match conmon's.
 *
 * @module
 */
import {
  bytesReadable,
  closeQuietly,
  pipe,
  readSome,
  setNonBlocking,
  trySetPipeSize,
} from "../sys/fd.ts";
import { EIO } from "../sys/libc.ts";
import { diag, diagOnce, errorText } from "../diag.ts";
import { type Poller, POLLIN } from "../sys/poller.ts";
import { STDIO_BUF_SIZE, type Stream } from "./stream.ts";
import { after, type Timer } from "../util/timer.ts";

/**
 * The container's stdout and stderr pipes hold 256 KiB, four times the
 * default: a container that floods its output is then read in runs of up to
 * 32 reads per poll wake-up instead of 8. Each wake-up costs a thread hop in
 * Deno; measured on 200 MB of output, monitor CPU 1.12 -> 0.95 s. The reads
 * stay 8 KiB, so the log records are the same as conmon's.
 */
const OUTPUT_PIPE_SIZE = 256 * 1024;
/** Reads per wake-up before yielding to other descriptors: a full pipe. */
const READS_PER_WAKE = OUTPUT_PIPE_SIZE / STDIO_BUF_SIZE;

export type OutputSink = (stream: Stream, data: Uint8Array) => void;

/**
 * The parent's ends of the pipes, and the child's ends to hand to the
 * runtime; a missing child end means /dev/null.
 */
export interface StdioPipes {
  childStdin?: number;
  childStdout?: number;
  childStderr: number;
  /** Our write end of the container's stdin (with -i). */
  stdinWriter?: number;
  stdoutReader?: number;
  stderrReader: number;
}

/**
 * Creates the pipes: stdin only with -i, stdout unless a terminal carries
 * it, stderr always (it also catches the runtime's own error messages).
 */
export function createStdioPipes(withStdin: boolean, withStdout: boolean): StdioPipes {
  const [stderrReader, childStderr] = pipe();
  const p: StdioPipes = { childStderr, stderrReader };
  if (withStdout) [p.stdoutReader, p.childStdout] = pipe();
  for (const fd of [p.stdoutReader, stderrReader]) {
    if (fd !== undefined) trySetPipeSize(fd, OUTPUT_PIPE_SIZE);
  }
  if (withStdin) [p.childStdin, p.stdinWriter] = pipe();
  return p;
}

/** Closes our ends (used when the container never came to be). */
export function closeParentEnds(p: StdioPipes): void {
  closeQuietly(p.stdinWriter);
  closeQuietly(p.stdoutReader);
  closeQuietly(p.stderrReader);
}

/** Closes the ends that now belong to the runtime (after spawning it). */
export function closeChildEnds(p: StdioPipes): void {
  closeQuietly(p.childStdin);
  closeQuietly(p.childStdout);
  closeQuietly(p.childStderr);
}

/** One output source: a pipe, or the pty master (which is "stdout"). */
export interface OutputSource {
  fd: number;
  stream: Stream;
  /** A pty: hang-up only means nobody holds the terminal right now. */
  tty?: boolean;
}

/** How long to wait before looking at a hung-up terminal again (as conmon). */
const TTY_HUP_RETRY_MS = 100;
/**
 * The most the final drain may take, whatever the sinks cost. What the pipes
 * hold at the container's death is its output and belongs in the logs before
 * the exit file says "done"; a slow sink gets that long to take it (a 256 KiB
 * pipe of short lines is ~40,000 journal entries: 1-2 s for a busy journald,
 * and 500 ms here once cut the tail off a flood). A sink that does not read
 * at all gives up sooner on its own (journald: src/io/journald/delivery.ts).
 */
export const DRAIN_TIME_LIMIT_MS = 10_000;

interface SinkEntry {
  name: string;
  write: OutputSink;
  /** Chunks this sink failed to take. */
  dropped: number;
}

/**
 * Relays the container's output to the sinks until end of file. A sink that
 * throws loses that chunk alone: the failure is counted and said once, and
 * reading and the other sinks go on (a sink that can recover, as the log
 * files, retries on its own).
 */
export class OutputRelay {
  #buf = new Uint8Array(STDIO_BUF_SIZE);
  #open = new Map<number, OutputSource>();
  #sinks: SinkEntry[] = [];
  #timers = new Set<Timer>();

  constructor(readonly poller: Poller, readonly sources: OutputSource[]) {}

  addSink(sink: OutputSink, name = `output sink ${this.#sinks.length + 1}`): void {
    this.#sinks.push({ name, write: sink, dropped: 0 });
  }

  /** Chunks each sink has dropped, by name. */
  dropped(): Record<string, number> {
    return Object.fromEntries(this.#sinks.map((s) => [s.name, s.dropped]));
  }

  /** Starts relaying. */
  start(): void {
    for (const src of this.sources) {
      setNonBlocking(src.fd);
      this.#open.set(src.fd, src);
      this.#watch(src);
    }
  }

  #watch(src: OutputSource): void {
    this.poller.add(src.fd, (revents) => this.#onReady(src, revents));
  }

  /**
   * Once the container's process is reaped: relays what the pipes hold at
   * this moment, and no more (or until `timeLimitMs` has passed). A writer
   * that outlives the container (a background process without its own pid
   * namespace, an exec'd process's child) can keep a pipe full forever, and
   * must not delay the exit files. Relaying goes on afterwards until stop().
   */
  drain(timeLimitMs = DRAIN_TIME_LIMIT_MS): void {
    const deadline = Date.now() + timeLimitMs;
    for (const fd of [...this.#open.keys()]) {
      for (let left = bytesReadable(fd); left > 0 && Date.now() < deadline;) {
        const n = this.#readOnce(fd, Math.min(left, STDIO_BUF_SIZE));
        if (n === 0) this.#finish(fd);
        if (n <= 0) break;
        left -= n;
      }
    }
  }

  /**
   * Stops relaying and closes the pipes; says what each failing sink dropped,
   * and what output is left unread.
   */
  stop(): void {
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
    for (const [fd, src] of [...this.#open]) {
      const left = bytesReadable(fd);
      if (left > 0) diag(`${left} bytes of the container's ${src.stream} left unread at the end`);
      this.#finish(fd);
    }
    for (const s of this.#sinks) {
      if (s.dropped > 0) diag(`${s.name}: ${s.dropped} chunks of output dropped in all`);
    }
  }

  #onReady(src: OutputSource, revents: number): boolean {
    if (revents & POLLIN) {
      for (let i = 0; i < READS_PER_WAKE; i++) {
        const n = this.#readOnce(src.fd);
        if (n === 0) {
          this.#finish(src.fd);
          return false;
        }
        if (n < 0) return true;
      }
      return true;
    }
    // Hang-up with nothing to read.
    if (src.tty) {
      // No process has the terminal open (yet, or any more): look again later
      // rather than spin on POLLHUP.
      const t = after(TTY_HUP_RETRY_MS, () => {
        this.#timers.delete(t);
        if (this.#open.has(src.fd)) this.#watch(src);
      });
      this.#timers.add(t);
      return false;
    }
    this.#finish(src.fd);
    return false;
  }

  /** One read: bytes read, 0 at EOF, -1 when nothing is ready. */
  #readOnce(fd: number, max = STDIO_BUF_SIZE): number {
    const src = this.#open.get(fd);
    if (!src) return 0;
    let n: number;
    try {
      n = readSome(fd, max === STDIO_BUF_SIZE ? this.#buf : this.#buf.subarray(0, max));
    } catch (err) {
      // A pty master reads EIO once the last slave is closed: end of output.
      if ((err as { code?: number }).code === EIO) return src.tty ? -1 : 0;
      diag(`cannot read the container's ${src.stream}: ${errorText(err)}`);
      return 0;
    }
    if (n > 0) this.#deliver(src.stream, this.#buf.subarray(0, n));
    return n;
  }

  #deliver(stream: Stream, data: Uint8Array): void {
    for (const s of this.#sinks) {
      try {
        s.write(stream, data);
      } catch (err) {
        s.dropped++;
        diagOnce(
          `relay:${s.name}`,
          `${s.name} failed (${errorText(err)}): its output is dropped while it fails; ` +
            "the container and the other sinks go on",
        );
      }
    }
  }

  #finish(fd: number): void {
    if (!this.#open.delete(fd)) return;
    this.poller.remove(fd);
    closeQuietly(fd);
  }
}

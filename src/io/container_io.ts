/**
 * The container's stdio pipes: created before the runtime starts, read on
 * the poller, and fanned out to sinks (log drivers, attach clients, the
 * terminal in `ocimon run`). Reads are 8192 bytes, as conmon's
 * STDIO_BUF_SIZE, so partial-line splits in the log match conmon's.
 *
 * @module
 */
import { closeQuietly, pipe, readSome, setNonBlocking } from "../sys/fd.ts";
import { type Poller, POLLIN } from "../sys/poller.ts";
import type { Stream } from "./k8s_file.ts";

export const STDIO_BUF_SIZE = 8192;
/** Reads per wake-up before yielding to other descriptors. */
const READS_PER_WAKE = 16;

export type OutputSink = (stream: Stream, data: Uint8Array) => void;

/** The parent's ends of the pipes, and the child's ends to hand to the runtime. */
export interface StdioPipes {
  /** Child's stdin read end, or undefined for /dev/null. */
  childStdin?: number;
  childStdout: number;
  childStderr: number;
  /** Our write end of the container's stdin (with -i). */
  stdinWriter?: number;
  stdoutReader: number;
  stderrReader: number;
}

/** Creates the pipes; stdin only when the container gets one (-i). */
export function createStdioPipes(withStdin: boolean): StdioPipes {
  const [stdoutReader, childStdout] = pipe();
  const [stderrReader, childStderr] = pipe();
  const p: StdioPipes = { childStdout, childStderr, stdoutReader, stderrReader };
  if (withStdin) [p.childStdin, p.stdinWriter] = pipe();
  return p;
}

/** Closes the ends that now belong to the runtime (after spawning it). */
export function closeChildEnds(p: StdioPipes): void {
  closeQuietly(p.childStdin);
  closeQuietly(p.childStdout);
  closeQuietly(p.childStderr);
}

/** Relays the container's output pipes to the sinks until end of file. */
export class OutputRelay {
  #buf = new Uint8Array(STDIO_BUF_SIZE);
  #open = new Map<number, Stream>();
  #sinks: OutputSink[] = [];
  #closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor(readonly poller: Poller, readonly stdoutFd: number, readonly stderrFd: number) {
    this.#closed = new Promise((r) => (this.#resolveClosed = r));
  }

  addSink(sink: OutputSink): void {
    this.#sinks.push(sink);
  }

  removeSink(sink: OutputSink): void {
    this.#sinks = this.#sinks.filter((s) => s !== sink);
  }

  /** Starts relaying. */
  start(): void {
    for (const [fd, stream] of [[this.stdoutFd, "stdout"], [this.stderrFd, "stderr"]] as const) {
      setNonBlocking(fd);
      this.#open.set(fd, stream);
      this.poller.add(fd, (revents) => this.#onReady(fd, revents));
    }
  }

  /** Resolves when both pipes reached end of file. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Reads whatever is left without waiting, then stops: used once the
   * container has exited, when a surviving holder of the pipe (an exec'd
   * process's child, say) must not keep us waiting for end of file.
   */
  drain(): void {
    for (const fd of [...this.#open.keys()]) {
      while (this.#readOnce(fd) > 0) { /* keep reading */ }
      this.#finish(fd);
    }
  }

  #onReady(fd: number, revents: number): boolean {
    if (!(revents & POLLIN) && revents) {
      // HUP/ERR with nothing left to read.
      while (this.#readOnce(fd) > 0) { /* rest */ }
      this.#finish(fd);
      return false;
    }
    for (let i = 0; i < READS_PER_WAKE; i++) {
      const n = this.#readOnce(fd);
      if (n === 0) {
        this.#finish(fd);
        return false;
      }
      if (n < 0) break;
    }
    return true;
  }

  /** One read: bytes read, 0 at EOF, -1 when nothing is ready. */
  #readOnce(fd: number): number {
    const stream = this.#open.get(fd);
    if (!stream) return 0;
    const n = readSome(fd, this.#buf);
    if (n > 0) {
      const data = this.#buf.subarray(0, n);
      for (const sink of this.#sinks) sink(stream, data);
    }
    return n;
  }

  #finish(fd: number): void {
    if (!this.#open.delete(fd)) return;
    this.poller.remove(fd);
    closeQuietly(fd);
    if (this.#open.size === 0) this.#resolveClosed();
  }
}

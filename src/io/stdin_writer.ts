/**
 * The container's stdin: what attach clients send is queued and written as
 * the pipe (or pty) takes it, never blocking the monitor on a container that
 * does not read. Clients may attach (and send, and finish) before the pty
 * exists, so the descriptor can arrive later: until then everything waits
 * in the queue, an end of input included.
 *
 * The queue is bounded: once it holds QUEUE_HIGH bytes, write() says so, and
 * the attach server stops reading its clients until onDrain() (as conmon,
 * which stops reading while the container's stdin is full). A client flooding
 * a container that does not read then waits in its own socket, not in our
 * memory.
 *
 * @module
 */
import { closeQuietly, setNonBlocking, writeSome } from "../sys/fd.ts";
import { type Poller, POLLOUT } from "../sys/poller.ts";

/** Bytes queued for the container's stdin before the clients are paused. */
export const QUEUE_HIGH = 64 * 1024;

export class StdinWriter {
  #queue: Uint8Array<ArrayBuffer>[] = [];
  #queued = 0;
  #full = false;
  /** Called when a full queue has been written out: read the clients again. */
  onDrain: () => void = () => {};
  #waiting = false;
  #closeWhenDrained = false;
  /** undefined: not connected yet; -1: closed. */
  #fd: number | undefined;

  constructor(readonly poller: Poller, fd?: number) {
    if (fd !== undefined) this.connect(fd);
  }

  /** Gives the writer its descriptor and writes what has been waiting. */
  connect(fd: number): void {
    this.#fd = fd;
    setNonBlocking(fd);
    this.#flush();
  }

  /**
   * Queues `data`. Returns false when the queue is full: send no more until
   * onDrain(). Input that can no longer be delivered is dropped (true).
   */
  write(data: Uint8Array): boolean {
    if (this.#fd === -1 || this.#closeWhenDrained) return true;
    this.#queue.push(data.slice());
    this.#queued += data.length;
    this.#flush();
    if (this.#queued >= QUEUE_HIGH) this.#full = true;
    return !this.#full;
  }

  /** Bytes waiting for the container to read them. */
  get queued(): number {
    return this.#queued;
  }

  /** Closes stdin once everything queued has been written (EOF for the container). */
  close(): void {
    this.#closeWhenDrained = true;
    this.#flush();
  }

  /** Closes at once, dropping what is queued. */
  abort(): void {
    if (this.#fd !== undefined && this.#fd >= 0) {
      if (this.#waiting) this.poller.remove(this.#fd);
      closeQuietly(this.#fd);
    }
    this.#fd = -1;
    this.#queue = [];
    this.#queued = 0;
    this.#resume();
  }

  #resume(): void {
    if (!this.#full || this.#queued >= QUEUE_HIGH / 2) return;
    this.#full = false;
    this.onDrain();
  }

  #flush(): void {
    if (this.#fd === undefined || this.#fd < 0) return;
    const fd = this.#fd;
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0];
        const n = writeSome(fd, head);
        this.#queued -= n;
        if (n === head.length) this.#queue.shift();
        else {
          this.#queue[0] = head.subarray(n);
          if (!this.#waiting) {
            this.#waiting = true;
            this.poller.add(fd, () => {
              this.#waiting = false;
              this.#flush();
              this.#resume();
              return false;
            }, POLLOUT);
          }
          return;
        }
      }
    } catch {
      // EPIPE: the container closed its stdin; nothing more can be delivered.
      this.abort();
      return;
    }
    if (this.#closeWhenDrained) this.abort();
  }
}

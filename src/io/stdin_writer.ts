/**
 * The container's stdin: what attach clients send is queued and written as
 * the pipe (or pty) takes it, never blocking the monitor on a container that
 * does not read. Clients may attach (and send, and finish) before the pty
 * exists, so the descriptor can arrive later: until then everything waits
 * in the queue, an end of input included.
 *
 * @module
 */
import { closeQuietly, setNonBlocking, writeSome } from "../sys/fd.ts";
import { type Poller, POLLOUT } from "../sys/poller.ts";

export class StdinWriter {
  #queue: Uint8Array<ArrayBuffer>[] = [];
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

  write(data: Uint8Array): void {
    if (this.#fd === -1 || this.#closeWhenDrained) return;
    this.#queue.push(data.slice());
    this.#flush();
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
  }

  #flush(): void {
    if (this.#fd === undefined || this.#fd < 0) return;
    const fd = this.#fd;
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0];
        const n = writeSome(fd, head);
        if (n === head.length) this.#queue.shift();
        else {
          this.#queue[0] = head.subarray(n);
          if (!this.#waiting) {
            this.#waiting = true;
            this.poller.add(fd, () => {
              this.#waiting = false;
              this.#flush();
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

/**
 * A readiness loop over raw descriptors: one poll(2) at a time on Deno's
 * blocking thread pool, callbacks on the main thread. This is what glib's main
 * loop is to conmon: container pipes, inotify, eventfd and sockets all wait
 * here, and a private eventfd wakes the poll when the set changes.
 *
 * @module
 */
import { check, libc, O_CLOEXEC, O_NONBLOCK } from "./libc.ts";
import { closeQuietly, readSome } from "./fd.ts";
import { diag } from "../diag.ts";

export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;

/** Called with the returned events; return false to stop watching the fd. */
export type ReadyCallback = (revents: number) => boolean | void;

interface Watch {
  events: number;
  callback: ReadyCallback;
}

export class Poller {
  #watches = new Map<number, Watch>();
  #wakeFd = check(libc.eventfd(0, O_CLOEXEC | O_NONBLOCK), "eventfd");
  #wakeBuf = new Uint8Array(8);
  #running = false;
  #stopped = false;

  /** Watches `fd` for `events` (POLLIN by default) until the callback says stop. */
  add(fd: number, callback: ReadyCallback, events = POLLIN): void {
    this.#watches.set(fd, { events, callback });
    this.#wake();
    if (!this.#running) this.#run();
  }

  remove(fd: number): void {
    if (this.#watches.delete(fd)) this.#wake();
  }

  has(fd: number): boolean {
    return this.#watches.has(fd);
  }

  /** Stops the loop; watched descriptors are left to their owners. */
  close(): void {
    this.#stopped = true;
    this.#watches.clear();
    this.#wake();
  }

  #wake(): void {
    const one = new BigUint64Array([1n]);
    libc.write(this.#wakeFd, new Uint8Array(one.buffer), 8n);
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#stopped && this.#watches.size > 0) {
        const fds = [this.#wakeFd, ...this.#watches.keys()];
        const pfd = new Int32Array(fds.length * 2);
        const view = new Int16Array(pfd.buffer);
        fds.forEach((fd, i) => {
          pfd[i * 2] = fd;
          view[i * 4 + 2] = i === 0 ? POLLIN : this.#watches.get(fd)!.events;
        });
        const n = await libc.poll(pfd, BigInt(fds.length), -1);
        if (n <= 0) continue; // EINTR
        for (let i = 0; i < fds.length; i++) {
          const revents = view[i * 4 + 3] & 0xffff;
          if (revents === 0) continue;
          if (i === 0) {
            readSome(this.#wakeFd, this.#wakeBuf);
            continue;
          }
          const w = this.#watches.get(fds[i]);
          if (!w) continue;
          let keep: boolean | void;
          try {
            keep = w.callback(revents);
          } catch (err) {
            diag(`watcher for fd ${fds[i]} failed: ${err}`);
            keep = false;
          }
          if (keep === false && this.#watches.get(fds[i]) === w) {
            this.#watches.delete(fds[i]);
          }
        }
      }
    } finally {
      this.#running = false;
      if (this.#stopped) closeQuietly(this.#wakeFd);
    }
  }
}

/** Resolves once `fd` is readable (or hung up), using `poller`. */
export function whenReadable(poller: Poller, fd: number): Promise<void> {
  return new Promise((resolve) => poller.add(fd, () => (resolve(), false)));
}

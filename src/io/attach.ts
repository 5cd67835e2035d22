/**
 * The attach socket: a SOCK_SEQPACKET listener named `attach` in the bundle,
 * where podman (and `podman attach`, several at once) connect. Each packet
 * to a client is one byte naming the stream (2 stdout, 3 stderr) followed by
 * up to 8192 bytes of output; whatever a client sends is the container's
 * stdin. When a client stops sending (shuts down its write side or goes
 * away), the container's stdin is closed unless --leave-stdin-open, while
 * output keeps flowing to the client until it closes its read side too.
 *
 * Clients never stall the container: sockets are non-blocking, and output a
 * client is not reading waits in a queue of its own of at most
 * CLIENT_QUEUE_MAX bytes, past which that client misses output (counted, and
 * said once) while the container and the other clients go on; conmon blocks
 * on such a client instead. Input is read only while the container's stdin
 * takes it (pauseInput/resumeInput), so a flooding client waits in its socket.
 *
 * Without --full-attach the socket is reached through a symlink
 * SOCKET_DIR/CUUID -> BUNDLE, so that callers can use a short path.
 *
 * @module
 */
import { join } from "../util/path.ts";
import { closeQuietly, setNonBlocking, writeSome } from "../sys/fd.ts";
import { type Poller, POLLERR, POLLHUP, POLLIN, POLLOUT } from "../sys/poller.ts";
import { diag, diagOnce, errorText } from "../diag.ts";
import { SHUT_RD, SHUT_WR, SOCK_SEQPACKET } from "../sys/libc.ts";
import { acceptConnection, listenUnix, recvSome, shutdownSocket } from "../sys/socket.ts";
import type { Stream } from "./stream.ts";
import { sleep } from "../util/timer.ts";

export const STDOUT_PIPE = 2;
export const STDERR_PIPE = 3;
/** conmon's CONN_SOCK_BUF_SIZE: a client packet is at most this minus one. */
const CONN_SOCK_BUF_SIZE = 32768;
const DEFAULT_SOCKET_DIR = "/var/run/crio";
/** Output a client may have waiting before it misses some. */
export const CLIENT_QUEUE_MAX = 1024 * 1024;

interface Client {
  fd: number;
  readable: boolean;
  writable: boolean;
  /** Packets the socket would not take yet. */
  queue: Uint8Array<ArrayBuffer>[];
  queued: number;
  /** Packets dropped because the client was not reading. */
  dropped: number;
  /** The poll events we watch the client for right now. */
  events: number;
}

export interface AttachOptions {
  bundle: string;
  cuuid?: string;
  socketDirPath?: string;
  fullAttach: boolean;
}

export interface AttachHandlers {
  /** Data a client sent: the container's stdin. */
  onInput(data: Uint8Array): boolean | void;
  /** A client will send no more. */
  onInputEnd(): void;
}

export class AttachServer {
  #listenFd: number;
  #clients = new Set<Client>();
  #buf = new Uint8Array(CONN_SOCK_BUF_SIZE - 1);
  #packet = new Uint8Array(0);
  #inputPaused = false;
  readonly socketPath: string;
  readonly symlinkPath: string | undefined;

  constructor(readonly poller: Poller, opts: AttachOptions, readonly handlers: AttachHandlers) {
    // Without a cuuid there is no name for the link (and the socket dir is
    // never ours to replace): the socket is reached by its full path.
    if (!opts.fullAttach && opts.cuuid) {
      const dir = opts.socketDirPath ?? DEFAULT_SOCKET_DIR;
      Deno.mkdirSync(dir, { recursive: true });
      this.symlinkPath = join(dir, opts.cuuid);
      try {
        Deno.removeSync(this.symlinkPath);
      } catch { /* not there */ }
      Deno.symlinkSync(opts.bundle, this.symlinkPath);
    }
    this.socketPath = join(opts.bundle, "attach");
    try {
      this.#listenFd = listenUnix(opts.bundle, "attach", SOCK_SEQPACKET, 10);
    } catch (err) {
      this.#removeSymlink();
      throw err;
    }
    poller.add(this.#listenFd, () => this.#accept());
  }

  /** Sends one chunk of container output to every client still reading. */
  broadcast(stream: Stream, data: Uint8Array): void {
    if (this.#clients.size === 0) return;
    // Reused: a packet that must wait is copied into the client's queue.
    if (this.#packet.length < data.length + 1) this.#packet = new Uint8Array(data.length + 1);
    const packet = this.#packet.subarray(0, data.length + 1);
    packet[0] = stream === "stdout" ? STDOUT_PIPE : STDERR_PIPE;
    packet.set(data, 1);
    for (const c of this.#clients) {
      if (!c.writable) continue;
      if (c.queue.length === 0 && this.#send(c, packet)) continue;
      if (!c.writable) continue;
      if (c.queued + packet.length > CLIENT_QUEUE_MAX) {
        c.dropped++;
        diagOnce(
          `attach:${c.fd}`,
          `attach client ${c.fd} is not reading: it misses output until it catches up`,
        );
        continue;
      }
      c.queue.push(packet.slice());
      c.queued += packet.length;
      this.#rewatch(c);
    }
  }

  /** Stops reading clients' input (the container's stdin is full). */
  pauseInput(): void {
    if (this.#inputPaused) return;
    this.#inputPaused = true;
    for (const c of this.#clients) this.#rewatch(c);
  }

  /** Reads clients' input again. */
  resumeInput(): void {
    if (!this.#inputPaused) return;
    this.#inputPaused = false;
    for (const c of this.#clients) this.#rewatch(c);
  }

  /** One packet to `c`: true if sent, false if its socket is full (or it left). */
  #send(c: Client, packet: Uint8Array<ArrayBuffer>): boolean {
    try {
      return writeSome(c.fd, packet) > 0;
    } catch {
      this.#shutdown(c, SHUT_WR);
      return false;
    }
  }

  #flushQueue(c: Client): void {
    while (c.writable && c.queue.length > 0) {
      if (!this.#send(c, c.queue[0])) break;
      c.queued -= c.queue.shift()!.length;
    }
    if (!c.writable) {
      c.queue = [];
      c.queued = 0;
    }
  }

  #accept(): boolean {
    for (;;) {
      let fd: number | undefined;
      try {
        fd = acceptConnection(this.#listenFd);
      } catch (err) {
        diag(`cannot accept an attach client: ${errorText(err)}`);
        return true;
      }
      if (fd === undefined) return true;
      setNonBlocking(fd);
      const client: Client = {
        fd,
        readable: true,
        writable: true,
        queue: [],
        queued: 0,
        dropped: 0,
        events: 0,
      };
      this.#clients.add(client);
      this.#rewatch(client);
    }
  }

  /** Watches `c` for what it can do now: input unless paused, output while queued. */
  #rewatch(c: Client): void {
    if (!this.#clients.has(c)) return;
    const events = (c.readable && !this.#inputPaused ? POLLIN : 0) |
      (c.writable && c.queue.length > 0 ? POLLOUT : 0);
    if (events === c.events) return;
    c.events = events;
    if (events === 0) this.poller.remove(c.fd);
    else this.poller.add(c.fd, (revents) => this.#onClient(c, revents), events);
  }

  #onClient(c: Client, revents: number): boolean {
    // A hang-up with output queued: the send fails and ends the client's output.
    if (revents & (POLLOUT | POLLHUP | POLLERR) && c.queue.length > 0) this.#flushQueue(c);
    if (c.readable && !this.#inputPaused && revents & (POLLIN | POLLHUP | POLLERR)) {
      let n = 0;
      if (revents & POLLIN) {
        try {
          n = recvSome(c.fd, this.#buf);
        } catch {
          n = 0;
        }
      }
      if (n > 0) {
        if (this.handlers.onInput(this.#buf.subarray(0, n)) === false) this.pauseInput();
      } else if (n === 0) {
        this.#shutdown(c, SHUT_RD);
        this.handlers.onInputEnd();
      }
    }
    if (!this.#clients.has(c)) return false;
    this.#rewatch(c);
    return c.events !== 0;
  }

  #shutdown(c: Client, how: number): void {
    shutdownSocket(c.fd, how);
    if (how === SHUT_RD) c.readable = false;
    else c.writable = false;
    if (!c.readable && !c.writable) {
      if (c.dropped > 0) diag(`attach client ${c.fd} missed ${c.dropped} chunks of output`);
      this.poller.remove(c.fd);
      closeQuietly(c.fd);
      this.#clients.delete(c);
    } else this.#rewatch(c);
  }

  #removeSymlink(): void {
    if (!this.symlinkPath) return;
    try {
      Deno.removeSync(this.symlinkPath);
    } catch { /* gone */ }
  }

  /**
   * Waits until every client has taken the output queued for it, or until
   * none has taken any for `stallMs` (a client that stopped reading).
   */
  async flush(stallMs = 1000): Promise<void> {
    let least = Infinity;
    let since = Date.now();
    for (;;) {
      let queued = 0;
      for (const c of this.#clients) if (c.writable) queued += c.queued;
      if (queued === 0) return;
      if (queued < least) [least, since] = [queued, Date.now()];
      else if (Date.now() - since > stallMs) return;
      await sleep(5);
    }
  }

  /** Disconnects every client, stops listening and removes the socket. */
  close(): void {
    for (const c of this.#clients) {
      this.poller.remove(c.fd);
      closeQuietly(c.fd);
    }
    this.#clients.clear();
    this.poller.remove(this.#listenFd);
    closeQuietly(this.#listenFd);
    try {
      Deno.removeSync(this.socketPath);
    } catch { /* gone */ }
    this.#removeSymlink();
  }
}

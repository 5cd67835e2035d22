/**
 * The attach socket: a SOCK_SEQPACKET listener named `attach` in the bundle,
 * where podman (and `podman attach`, several at once) connect. Each packet
 * to a client is one byte naming the stream (2 stdout, 3 stderr) followed by
 * up to 8192 bytes of output; whatever a client sends is the container's
 * stdin. When a client stops sending (shuts down its write side or goes
 * away), the container's stdin is closed unless --leave-stdin-open, while
 * output keeps flowing to the client until it closes its read side too.
 *
 * Without --full-attach the socket is reached through a symlink
 * SOCKET_DIR/CUUID -> BUNDLE, so that callers can use a short path.
 *
 * @module
 */
import { join } from "../util/path.ts";
import { closeQuietly, writeAll } from "../sys/fd.ts";
import { type Poller, POLLIN } from "../sys/poller.ts";
import {
  acceptConnection,
  listenUnix,
  recvSome,
  SHUT_RD,
  SHUT_WR,
  shutdownSocket,
  SOCK_SEQPACKET,
} from "../sys/socket.ts";
import type { Stream } from "./k8s_file.ts";

export const STDOUT_PIPE = 2;
export const STDERR_PIPE = 3;
/** conmon's CONN_SOCK_BUF_SIZE: a client packet is at most this minus one. */
const CONN_SOCK_BUF_SIZE = 32768;
const DEFAULT_SOCKET_DIR = "/var/run/crio";

interface Client {
  fd: number;
  readable: boolean;
  writable: boolean;
}

export interface AttachOptions {
  bundle: string;
  cuuid?: string;
  socketDirPath?: string;
  fullAttach: boolean;
}

export interface AttachHandlers {
  /** Data a client sent: the container's stdin. */
  onInput(data: Uint8Array): void;
  /** A client will send no more. */
  onInputEnd(): void;
}

export class AttachServer {
  #listenFd: number;
  #clients = new Set<Client>();
  #buf = new Uint8Array(CONN_SOCK_BUF_SIZE - 1);
  #packet = new Uint8Array(0);
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
    // Reused: every write below completes before we return.
    if (this.#packet.length < data.length + 1) this.#packet = new Uint8Array(data.length + 1);
    const packet = this.#packet.subarray(0, data.length + 1);
    packet[0] = stream === "stdout" ? STDOUT_PIPE : STDERR_PIPE;
    packet.set(data, 1);
    for (const c of this.#clients) {
      if (!c.writable) continue;
      try {
        writeAll(c.fd, packet);
      } catch {
        this.#shutdown(c, SHUT_WR);
      }
    }
  }

  #accept(): boolean {
    for (;;) {
      const fd = acceptConnection(this.#listenFd);
      if (fd === undefined) return true;
      const client: Client = { fd, readable: true, writable: true };
      this.#clients.add(client);
      this.poller.add(fd, (revents) => this.#onClient(client, revents));
    }
  }

  #onClient(c: Client, revents: number): boolean {
    const n = revents & POLLIN ? recvSome(c.fd, this.#buf) : 0;
    if (n < 0) return true; // spurious wake-up
    if (n > 0) {
      this.handlers.onInput(this.#buf.subarray(0, n));
      return true;
    }
    this.#shutdown(c, SHUT_RD);
    this.handlers.onInputEnd();
    return false;
  }

  #shutdown(c: Client, how: number): void {
    shutdownSocket(c.fd, how);
    if (how === SHUT_RD) c.readable = false;
    else c.writable = false;
    if (!c.readable && !c.writable) {
      this.poller.remove(c.fd);
      closeQuietly(c.fd);
      this.#clients.delete(c);
    }
  }

  #removeSymlink(): void {
    if (!this.symlinkPath) return;
    try {
      Deno.removeSync(this.symlinkPath);
    } catch { /* gone */ }
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

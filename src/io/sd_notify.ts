/**
 * --sdnotify-socket: the sd_notify(3) proxy, as conmon runs it for
 * `podman run --sdnotify=container`.
 *
 * The container cannot reach the host's notify socket, so the monitor binds
 * a datagram socket of its own at BUNDLE/notify/notify.sock (podman mounts
 * BUNDLE/notify at /run/notify in the container and sets NOTIFY_SOCKET to
 * /run/notify/notify.sock there). What the container sends is relayed to
 * the host socket, from the monitor's own process: podman has already told
 * systemd MAINPID=<the monitor's pid> (from --conmon-pidfile), so with
 * NotifyAccess=main systemd accepts the relayed READY=1 only because the
 * monitor sends it. Only the lines conmon passes on are relayed (the rest
 * could be security sensitive, MAINPID above all): READY=1, RELOADING=1,
 * STOPPING=1, WATCHDOG=1, WATCHDOG=trigger, and STATUS=, ERRNO=, BUSERROR=,
 * MONOTONIC_USEC= lines, joined by newlines.
 *
 * The host socket never holds the monitor up: sends are non-blocking, a
 * message the host will not take yet waits (at most QUEUE_MAX of them) and
 * is retried; past that, messages are dropped and said once.
 *
 * @module
 */
import { join } from "../util/path.ts";
import {
  EAGAIN,
  EINTR,
  errno,
  libc,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SOCK_DGRAM,
  strerror,
} from "../sys/libc.ts";
import { closeQuietly } from "../sys/fd.ts";
import { type Poller, POLLIN } from "../sys/poller.ts";
import { bindUnix, sockaddrUn, unixSocket } from "../sys/socket.ts";
import { after, type Timer } from "../util/timer.ts";

/** conmon's CONN_SOCK_BUF_SIZE: the largest notification read. */
const BUF_SIZE = 32768;
/** Notifications waiting for a host socket that will not take them, at most. */
export const QUEUE_MAX = 64;
const RETRY_MS = 100;

/** The notify socket's place in the bundle, and its name in the container. */
export const NOTIFY_DIR = "notify";
export const NOTIFY_SOCKET_NAME = "notify.sock";

const PASS_LINES = new Set([
  "READY=1",
  "RELOADING=1",
  "STOPPING=1",
  "WATCHDOG=1",
  "WATCHDOG=trigger",
]);
const PASS_PREFIXES = ["STATUS=", "ERRNO=", "BUSERROR=", "MONOTONIC_USEC="];

/**
 * What of a notification is relayed: the lines conmon passes on, in order,
 * joined by "\n" ("" when nothing is left). Lines end at "\n" or "\r".
 */
export function filterNotification(message: string): string {
  return message.split(/[\n\r]/)
    .filter((l) => PASS_LINES.has(l) || PASS_PREFIXES.some((p) => l.startsWith(p)))
    .join("\n");
}

export class NotifyProxy {
  #fd: number;
  #host: number;
  #hostAddr: Uint8Array<ArrayBuffer>;
  #buf = new Uint8Array(BUF_SIZE);
  #queue: Uint8Array<ArrayBuffer>[] = [];
  #timer?: Timer;
  #dropped = 0;
  #failing = "";
  readonly path: string;

  /**
   * Binds BUNDLE/notify/notify.sock (made world-writable, as conmon: the
   * container's user may be anyone) and starts relaying to `hostSocket`.
   */
  constructor(
    readonly poller: Poller,
    bundle: string,
    readonly hostSocket: string,
    readonly say: (message: string) => void,
  ) {
    const dir = join(bundle, NOTIFY_DIR);
    Deno.mkdirSync(dir, { recursive: true });
    this.path = join(dir, NOTIFY_SOCKET_NAME);
    this.#hostAddr = sockaddrUn(hostSocket);
    this.#host = unixSocket(SOCK_DGRAM);
    try {
      this.#fd = bindUnix(dir, NOTIFY_SOCKET_NAME, SOCK_DGRAM, 0o777);
    } catch (err) {
      closeQuietly(this.#host);
      throw err;
    }
    poller.add(this.#fd, (revents) => this.#onReadable(revents));
  }

  #onReadable(revents: number): boolean {
    if (!(revents & POLLIN)) return false;
    for (;;) {
      const n = Number(libc.recv(this.#fd, this.#buf, BigInt(this.#buf.length), MSG_DONTWAIT));
      if (n < 0) {
        const e = errno();
        if (e === EINTR) continue;
        if (e !== EAGAIN) {
          this.say(`sd-notify: cannot read the container's notification: ${strerror(e)}`);
        }
        return true;
      }
      const message = filterNotification(new TextDecoder().decode(this.#buf.subarray(0, n)));
      if (message !== "") this.#relay(new TextEncoder().encode(message));
    }
  }

  #relay(data: Uint8Array<ArrayBuffer>): void {
    if (this.#queue.length > 0) return this.#enqueue(data);
    const r = this.#send(data);
    if (r === EAGAIN) this.#enqueue(data);
  }

  /** One send to the host socket: 0, or the errno (said once per kind of failure). */
  #send(data: Uint8Array<ArrayBuffer>): number {
    for (;;) {
      const n = Number(libc.sendto(
        this.#host,
        data,
        BigInt(data.length),
        MSG_DONTWAIT | MSG_NOSIGNAL,
        this.#hostAddr,
        this.#hostAddr.length,
      ));
      if (n >= 0) {
        this.#failing = "";
        return 0;
      }
      const e = errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN) this.#fail(`cannot relay to ${this.hostSocket}: ${strerror(e)}`);
      return e;
    }
  }

  #fail(why: string): void {
    if (why !== this.#failing) this.say(`sd-notify: ${why}`);
    this.#failing = why;
  }

  #enqueue(data: Uint8Array<ArrayBuffer>): void {
    if (this.#queue.length >= QUEUE_MAX) {
      this.#dropped++;
      return this.#fail(`${this.hostSocket} is not taking notifications; dropping them`);
    }
    this.#queue.push(data);
    if (this.#timer === undefined) {
      this.#timer = after(RETRY_MS, () => this.#retry());
    }
  }

  #retry(): void {
    this.#timer = undefined;
    while (this.#queue.length > 0) {
      if (this.#send(this.#queue[0]) === EAGAIN) {
        this.#timer = after(RETRY_MS, () => this.#retry());
        return;
      }
      this.#queue.shift();
    }
  }

  /** Stops relaying and removes the socket. */
  close(): void {
    if (this.#timer !== undefined) this.#timer.cancel();
    this.#timer = undefined;
    if (this.#queue.length > 0 || this.#dropped > 0) {
      this.say(
        `sd-notify: ${
          this.#queue.length + this.#dropped
        } notifications not relayed to ${this.hostSocket}`,
      );
    }
    this.#queue = [];
    this.poller.remove(this.#fd);
    closeQuietly(this.#fd);
    closeQuietly(this.#host);
    try {
      Deno.removeSync(this.path);
    } catch { /* gone */ }
  }
}

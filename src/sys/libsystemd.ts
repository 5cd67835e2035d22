/**
 * libsystemd's journal client, bound through FFI when the journald log
 * driver is used (and only then: this module is imported dynamically).
 *
 * sd_journal_sendv(3) sends one entry over a datagram socket of its own,
 * opened on the first send and left blocking: a journal that stops reading
 * (journald frozen or overwhelmed) would block the send, and with it the
 * monitor and the container behind it, for as long as it lasts. So:
 *  - the first send runs on a worker thread (the socket does not exist
 *    before it, so nothing can be done to it yet);
 *  - then that socket is found (the one unix datagram socket the call
 *    opened) and given a send timeout, SEND_TIMEOUT_MS: a later send waits
 *    for a slow journal as conmon's does, but never longer than that, and
 *    returns -EAGAIN instead. What to do then is the caller's choice
 *    (src/io/journald/delivery.ts).
 *
 * @module
 */
import { AF_UNIX, libc, SOCK_DGRAM, SOL_SOCKET } from "./libc.ts";

/** The soname every systemd host has (package libsystemd0). */
export const LIBSYSTEMD = "libsystemd.so.0";

const SYMBOLS = {
  // A pointer, not a buffer: without V8's optimizing tiers (bin/ocimon) a
  // "buffer" argument costs ~1.3 us a call, a pointer ~0.4 us (measured).
  sd_journal_sendv: { parameters: ["pointer", "i32"], result: "i32" },
  sd_journal_sendv_async: {
    name: "sd_journal_sendv",
    parameters: ["buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** How long one send may wait for a journal that does not read. */
export const SEND_TIMEOUT_MS = 500;

const SO_TYPE = 3;
const SO_SNDTIMEO = 21;

/** One journal connection: entries go as iovec arrays of "FIELD=value" byte strings. */
export class JournalClient {
  #lib: Deno.DynamicLibrary<typeof SYMBOLS>;

  private constructor(lib: Deno.DynamicLibrary<typeof SYMBOLS>) {
    this.#lib = lib;
  }

  /**
   * Binds libsystemd. Throws an Error whose message is one line for a person
   * when the library is missing.
   */
  static open(): JournalClient {
    let lib;
    try {
      lib = Deno.dlopen(LIBSYSTEMD, SYMBOLS);
    } catch (err) {
      const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
      throw new Error(
        `the journald log driver needs ${LIBSYSTEMD} (package libsystemd0), which cannot be loaded: ${why}`,
      );
    }
    return new JournalClient(lib);
  }

  /**
   * The first send, on a worker thread; then bounds every later send's wait.
   * `iov` must stay untouched until the promise settles, and sendv() waits
   * for it. Resolves to what
   * sd_journal_sendv returned (0, or a negative errno).
   */
  async connect(iov: BigUint64Array<ArrayBuffer>, n: number): Promise<number> {
    const before = openFds();
    const r = await this.#lib.symbols.sd_journal_sendv_async(iov, n);
    for (const [fd, target] of openFds()) {
      if (before.get(fd) !== target && target.startsWith("socket:") && isUnixDatagram(fd)) {
        const tv = new BigInt64Array([0n, BigInt(SEND_TIMEOUT_MS * 1000)]);
        libc.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, new Uint8Array(tv.buffer), 16);
      }
    }
    return r;
  }

  /**
   * Sends one entry (after connect()), given as a pointer to its iovec array:
   * 0, or a negative errno; -EAGAIN when the journal took nothing for
   * SEND_TIMEOUT_MS (twice).
   */
  sendv(iov: Deno.PointerValue, n: number): number {
    return this.#lib.symbols.sd_journal_sendv(iov, n);
  }
}

/** Open descriptors and what each refers to (a number alone may be reused). */
function openFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      fds.set(Number(e.name), Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch { /* the listing's own descriptor, closed by now */ }
  }
  return fds;
}

/** True for an unbound unix datagram socket, such as libsystemd's. */
function isUnixDatagram(fd: number): boolean {
  const val = new Int32Array(1);
  const len = new Uint32Array([4]);
  if (libc.getsockopt(fd, SOL_SOCKET, SO_TYPE, new Uint8Array(val.buffer), len) < 0) return false;
  if (val[0] !== SOCK_DGRAM) return false;
  const addr = new Uint8Array(128);
  const alen = new Uint32Array([addr.length]);
  if (libc.getsockname(fd, addr, alen) < 0) return false;
  return new DataView(addr.buffer).getUint16(0, true) === AF_UNIX && alen[0] === 2;
}

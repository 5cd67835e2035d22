/**
 * The attach socket with our own SOCK_SEQPACKET clients: conmon's framing,
 * several clients at once, stdin from clients, and --leave-stdin-open.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { launchMonitor, sleep, waitFor } from "../support/harness.ts";
import { closeQuietly, setNonBlocking, writeAll } from "../../src/sys/fd.ts";
import { SHUT_WR, SOCK_SEQPACKET } from "../../src/sys/libc.ts";
import { connectUnix, recvSome, shutdownSocket } from "../../src/sys/socket.ts";

/** A client that collects every packet: [stream byte, text]. */
class Client {
  readonly fd: number;
  readonly packets: [number, string][] = [];
  #buf = new Uint8Array(9000);
  constructor(path: string) {
    this.fd = connectUnix(path, SOCK_SEQPACKET);
    setNonBlocking(this.fd);
  }
  poll(): boolean {
    for (;;) {
      const n = recvSome(this.fd, this.#buf);
      if (n < 0) return false;
      if (n === 0) return true; // the monitor closed the session
      this.packets.push([this.#buf[0], new TextDecoder().decode(this.#buf.subarray(1, n))]);
    }
  }
  text(stream = 2): string {
    return this.packets.filter(([s]) => s === stream).map(([, t]) => t).join("");
  }
  send(s: string) {
    writeAll(this.fd, new TextEncoder().encode(s));
  }
  endInput() {
    shutdownSocket(this.fd, SHUT_WR);
  }
  close() {
    closeQuietly(this.fd);
  }
}

async function untilClosed(clients: Client[]): Promise<void> {
  await waitFor(
    () => (clients.map((c) => c.poll()).every(Boolean) ? true : undefined),
    20_000,
    "the attach sessions to end",
  );
}

Deno.test("attach: two clients get every packet (2 stdout, 3 stderr); stdin from one; its end closes stdin", async () => {
  const sockets = Deno.makeTempDirSync();
  const script = "read line; echo got:$line; echo err:$line >&2; cat; echo stdin-closed";
  const c = await launchMonitor({
    name: "attach",
    args: ["sh", "-c", script],
    extra: ["-i", "--socket-dir-path", sockets],
  });
  try {
    await c.sync.next();
    // Without --full-attach the socket is reached through SOCKET_DIR/CUUID -> bundle.
    const path = join(sockets, c.cid, "attach");
    const a = new Client(path), b = new Client(path);
    await c.start();
    a.send("hello\n");
    await waitFor(
      () => (a.poll(), b.poll(), b.text().includes("got:hello") ? true : undefined),
      10_000,
      "output",
    );
    a.endInput();
    await untilClosed([a, b]);
    assert.equal(await c.exitCode(), "0");
    for (const cl of [a, b]) {
      assert.equal(cl.text(2), "got:hello\nstdin-closed\n");
      assert.equal(cl.text(3), "err:hello\n");
      assert(cl.packets.every(([s, t]) => (s === 2 || s === 3) && t.length <= 8192));
      cl.close();
    }
    assert.throws(() => Deno.lstatSync(path), "the attach socket is removed at exit");
    assert.throws(() => Deno.lstatSync(join(sockets, c.cid)), "and the symlink to the bundle too");
  } finally {
    await c.cleanup();
    Deno.removeSync(sockets, { recursive: true });
  }
});

Deno.test("attach: --leave-stdin-open keeps stdin for the next client", async () => {
  const script = "read a; echo first:$a; read b; echo second:$b";
  for (const leave of [true, false]) {
    const c = await launchMonitor({
      name: "leave",
      args: ["sh", "-c", script],
      extra: ["-i", "--full-attach", ...(leave ? ["--leave-stdin-open"] : [])],
    });
    try {
      await c.sync.next();
      const path = join(c.bundle, "attach");
      const first = new Client(path);
      await c.start();
      first.send("x\n");
      first.endInput();
      await waitFor(
        () => (first.poll(), first.text().includes("first:x") ? true : undefined),
        10_000,
        "first line",
      );
      await sleep(200);
      if (leave) {
        const second = new Client(path);
        second.send("y\n");
        await untilClosed([first, second]);
        assert.equal(second.text(), "second:y\n");
        second.close();
      } else {
        await untilClosed([first]);
        assert.equal(
          first.text(),
          "first:x\nsecond:\n",
          "stdin was closed: the second read got EOF",
        );
      }
      assert.equal(await c.exitCode(), "0");
      first.close();
    } finally {
      await c.cleanup();
    }
  }
});

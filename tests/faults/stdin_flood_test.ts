/**
 * A client floods the container's stdin through the attach socket while the
 * container never reads it: the monitor must stop reading the client while
 * the container's stdin is full (as conmon), not queue it all in memory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { closeQuietly, setNonBlocking, writeSome } from "../../src/sys/fd.ts";
import { SOCK_SEQPACKET } from "../../src/sys/libc.ts";
import { connectUnix } from "../../src/sys/socket.ts";
import { MONITOR_NAME, RUNTIME, tempDir } from "../support/env.ts";
import { launchMonitor, run, sleep } from "../support/harness.ts";
import { rssKiB, withMonitor } from "../support/faults.ts";

const FLOOD_MS = 3000;
const FLOOD_MAX = 400 * 1024 * 1024;

Deno.test(`faults (${MONITOR_NAME}): a stdin flood to a container that does not read stays bounded`, async () => {
  const sockets = tempDir("sock");
  const c = await launchMonitor(withMonitor({
    name: "stdin",
    args: ["sleep", "30"],
    extra: ["--stdin", "--full-attach", "--socket-dir-path", sockets],
  }));
  let fd: number | undefined;
  try {
    const m = await c.sync.next();
    assert(m && Number(m.data) > 0, JSON.stringify(m));
    await c.start();
    const monitor = c.monitorPid();
    const before = rssKiB(monitor);
    fd = connectUnix(join(c.bundle, "attach"), SOCK_SEQPACKET);
    setNonBlocking(fd);
    const packet = new Uint8Array(8192);
    let taken = 0;
    const deadline = Date.now() + FLOOD_MS;
    while (Date.now() < deadline && taken < FLOOD_MAX) {
      const n = writeSome(fd, packet);
      if (n > 0) taken += n;
      else await sleep(2);
    }
    const after = rssKiB(monitor);
    console.log(
      `${MONITOR_NAME}: monitor took ${
        (taken / 1048576).toFixed(1)
      } MB of stdin in ${FLOOD_MS} ms; ` +
        `RSS ${(before / 1024).toFixed(1)} -> ${(after / 1024).toFixed(1)} MB`,
    );
    // What may wait: the socket's buffers, our bounded queue and the pipe.
    assert(taken < 8 * 1048576, `the monitor took ${taken} bytes the container never read`);
    assert(after - before < 16 * 1024, `monitor RSS grew by ${after - before} KiB`);
    await run([RUNTIME, "kill", c.cid, "KILL"]);
    assert.equal(await c.exitCode(10_000), "137");
  } finally {
    closeQuietly(fd);
    await c.cleanup();
    Deno.removeSync(sockets, { recursive: true });
  }
});

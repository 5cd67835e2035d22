/**
 * The subreaper with real processes. This file makes the test process a
 * subreaper, so it runs no Deno.Command of its own.
 */
import assert from "node:assert/strict";
import { ChildReaper } from "../../src/reaper/child_reaper.ts";
import { spawn } from "../../src/sys/spawn.ts";
import { closeQuietly, pipe, readSome } from "../../src/sys/fd.ts";

Deno.test("children and orphans alike are reaped; no zombie remains", async () => {
  const reaper = new ChildReaper().start();
  try {
    const [r, w] = pipe();
    // The shell leaves a grandchild behind and exits: that orphan is ours now.
    const pid = spawn({
      path: "/bin/sh",
      argv: ["sh", "-c", "sleep 0.3 & echo $! >&3; exit 4"],
      env: [],
      fds: { 3: w },
    });
    closeQuietly(w);
    assert.deepEqual(await reaper.wait(pid), { pid, code: 4, signal: 0 });
    const buf = new Uint8Array(32);
    const orphan = Number(new TextDecoder().decode(buf.subarray(0, readSome(r, buf))).trim());
    closeQuietly(r);
    assert(orphan > 0);
    const ppid = Deno.readTextFileSync(`/proc/${orphan}/stat`).split(") ")[1].split(" ")[1];
    assert.equal(Number(ppid), Deno.pid, "the orphan was reparented to the subreaper");
    assert.deepEqual(await reaper.wait(orphan), { pid: orphan, code: 0, signal: 0 });
    assert.equal(await reaper.reapRemaining(1000), true, "nothing left");
    assert.throws(() => Deno.statSync(`/proc/${orphan}`), "the orphan is not a zombie");
  } finally {
    reaper.stop();
  }
});

Deno.test("a status reaped before anyone asked is kept for later", async () => {
  const reaper = new ChildReaper().start();
  try {
    const pid = spawn({ path: "/bin/sh", argv: ["sh", "-c", "exit 9"], env: [] });
    await reaper.reapRemaining(2000);
    assert.deepEqual(reaper.status(pid), { pid, code: 9, signal: 0 });
    assert.deepEqual(await reaper.wait(pid), { pid, code: 9, signal: 0 });
  } finally {
    reaper.stop();
  }
});

/**
 * Giving up, at each stage a monitor can reach, with a recording runtime (a
 * shell script that logs its argv and acts as told) and real processes: the
 * caller hears on the channel it listens to at that stage, what the runtime
 * made is undone, and the exit command (podman's cleanup) runs on every path.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { monitorContainer } from "../../src/monitor/mod.ts";
import { MonitorFailure, MonitorSession } from "../../src/monitor/session.ts";
import { giveUp } from "../../src/monitor/give_up.ts";
import { spawnChild } from "../../src/runtime/oci_runtime.ts";
import { exists, recordingRuntime as fixture } from "../support/recording_runtime.ts";

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

Deno.test("give up before the runtime runs: -1 and the reason on the sync pipe, exit command run", async () => {
  const f = fixture("ok");
  try {
    const cfg = { ...f.cfg, runtime: join(f.dir, "no-such-runtime") };
    const r = await monitorContainer(cfg);
    assert.equal(r.ok, false);
    assert.match(f.syncText(), /^\{"data": -1, "message": "cannot start .*no-such-runtime/);
    assert(f.exitCommandRan(), "exit command");
    assert(!exists(join(f.dir, "cid1")), "no exit file before the caller has a pid");
  } finally {
    f.cleanup();
  }
});

Deno.test("give up when create fails: the runtime's own words, no delete, exit command run", async () => {
  const f = fixture("fail");
  try {
    const r = await monitorContainer(f.cfg);
    assert.deepEqual(r, { ok: false, message: "no such image\n" });
    assert.equal(f.syncText(), '{"data": -1, "message": "no such image\\n"}\n');
    assert.deepEqual(f.calls().map((c) => c.split(" ")[0]), ["create"]);
    assert(f.exitCommandRan(), "exit command");
  } finally {
    f.cleanup();
  }
});

Deno.test("give up when the runtime dies of a signal in create: what it made is killed and deleted", async () => {
  const f = fixture("killed");
  try {
    const r = await monitorContainer(f.cfg);
    assert.equal(r.ok, false);
    const pid = Number(Deno.readTextFileSync(join(f.dir, "pidfile")));
    assert(!alive(pid), `the half-made container ${pid} is gone`);
    assert.deepEqual(f.calls().map((c) => c.split(" ")[0]), ["create", "delete"]);
    assert.match(f.syncText(), /^\{"data": -1, "message": ".*signal SIGKILL/);
    assert(f.exitCommandRan(), "exit command");
  } finally {
    f.cleanup();
  }
});

Deno.test("give up after the caller has the pid: the container is killed, the exit files say how", async () => {
  const f = fixture("ok");
  try {
    const s = new MonitorSession(f.cfg, {});
    const pid = spawnChild({
      argv: ["/bin/sleep", "300"],
      fds: { 0: "null", 1: "null", 2: "null" },
    });
    s.pid = pid;
    s.stage = "pid-sent";
    const r = await giveUp(s, new Error("a step threw"));
    assert.deepEqual(r, { ok: false, message: "internal error: a step threw" });
    assert(!alive(pid));
    assert.equal(Deno.readTextFileSync(join(f.dir, "cid1")), "137");
    assert.equal(Deno.readTextFileSync(join(f.dir, "persist", "exit")), "137");
    assert.equal(f.syncText(), "", "nothing more on the sync pipe for a container");
    assert(f.exitCommandRan(), "exit command");
  } finally {
    f.cleanup();
  }
});

Deno.test("give up after the exit files: nothing undone, nothing written again", async () => {
  const f = fixture("ok");
  try {
    const s = new MonitorSession(f.cfg, {});
    s.stage = "reported";
    const r = await giveUp(s, new MonitorFailure("late"));
    assert.deepEqual(r, { ok: false, message: "late" });
    assert(!exists(join(f.dir, "cid1")));
    assert.equal(f.syncText(), "");
    assert(f.exitCommandRan(), "exit command, once");
  } finally {
    f.cleanup();
  }
});

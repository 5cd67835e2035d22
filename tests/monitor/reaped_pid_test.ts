/**
 * A reaped pid is never signalled again (conmon 2.2 makes a point of it): once
 * reaped, its number may be given to any new process. The kernel is made to
 * give it out again (as root, through /proc/sys/kernel/ns_last_pid), and the
 * signals the monitor sends on its own behalf (SIGTERM forwarded, as podman
 * stops a container through its monitor; the SIGKILL of giving up) must not
 * reach the newcomer; and a child the monitor starts anew with that number is
 * waited for and signalled as itself. Real processes; the runtime is a
 * recording one.
 */
import assert from "node:assert/strict";
import { ChildReaper } from "../../src/reaper/child_reaper.ts";
import { MonitorSession } from "../../src/monitor/session.ts";
import { giveUp } from "../../src/monitor/give_up.ts";
import { spawnChild } from "../../src/runtime/oci_runtime.ts";
import { recordingRuntime as fixture } from "../support/recording_runtime.ts";

const NS_LAST_PID = "/proc/sys/kernel/ns_last_pid";

function sleeper(): number {
  return spawnChild({ argv: ["/bin/sleep", "300"], fds: { 0: "null", 1: "null", 2: "null" } });
}

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

/** Ends a test's own process without the guard (the guard is what is tested). */
function killOwn(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
}

/**
 * A child that exited and was reaped, and a live process given its number
 * again. Other processes on the machine may fork in between, so it tries a
 * few times; the test fails where the number cannot be had again (these
 * tests run as root, where ns_last_pid can be written): a check that could
 * not happen is not passed.
 */
async function reapedAndReused(reaper: ChildReaper): Promise<[number, number]> {
  const gone = spawnChild({ argv: ["/bin/true"], fds: { 0: "null", 1: "null", 2: "null" } });
  await reaper.wait(gone);
  for (let i = 0; i < 200; i++) {
    Deno.writeTextFileSync(NS_LAST_PID, String(gone - 1)); // throws where not root
    const pid = sleeper();
    if (pid === gone) return [gone, pid];
    killOwn(pid);
    await reaper.wait(pid);
  }
  throw new Error(`pid ${gone} was not given out again in 200 tries`);
}

Deno.test("the reaper signals a live child, never a reaped pid, even once its number is reused", async () => {
  const reaper = new ChildReaper().start();
  let newcomer: number | undefined;
  try {
    const live = sleeper();
    assert.equal(reaper.signal(live, 15), true);
    assert.equal((await reaper.wait(live)).signal, 15);
    const [gone, reused] = await reapedAndReused(reaper);
    newcomer = reused;
    assert.equal(reaper.signal(gone, 15), false, "nothing sent to a reaped pid");
    assert.equal(reaper.signalGroup(gone, 9), false, "nor to its group");
    await new Promise((r) => setTimeout(r, 50));
    assert(alive(newcomer), "the process that got the reaped pid's number is untouched");
  } finally {
    if (newcomer !== undefined) killOwn(newcomer);
    await reaper.reapRemaining(2000);
    reaper.stop();
  }
});

Deno.test("a reaped pid that a child we start anew receives is that child's: its own status, its signals", async () => {
  const reaper = new ChildReaper().start();
  let newcomer: number | undefined;
  try {
    const [gone, reused] = await reapedAndReused(reaper);
    newcomer = reused;
    assert.equal(reaper.started(newcomer), gone);
    const exit = reaper.wait(newcomer);
    assert.equal(reaper.signal(newcomer, 15), true, "the new child is signalled");
    assert.deepEqual(await exit, { pid: gone, code: 143, signal: 15 }, "not the old status");
    newcomer = undefined;
  } finally {
    if (newcomer !== undefined) killOwn(newcomer);
    await reaper.reapRemaining(2000);
    reaper.stop();
  }
});

Deno.test("SIGTERM to the monitor goes to the container, and not once the container is reaped", async () => {
  const f = fixture("ok");
  const s = new MonitorSession(f.cfg, {});
  let newcomer: number | undefined;
  try {
    s.forwardSignals();
    const container = sleeper();
    s.signalTarget = container;
    Deno.kill(Deno.pid, "SIGTERM"); // as podman stop does, through the monitor
    assert.equal((await s.reaper.wait(container)).signal, 15, "forwarded while it lived");
    // The exit phase clears the target; a quick exec's pid, reaped before the
    // runtime returned, never had it cleared: the guard must hold either way.
    const [gone, reused] = await reapedAndReused(s.reaper);
    newcomer = reused;
    s.signalTarget = gone;
    Deno.kill(Deno.pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    assert(alive(newcomer), "SIGTERM reached the process that reused the container's pid");
  } finally {
    s.stopForwarding();
    if (newcomer !== undefined) killOwn(newcomer);
    await s.teardown(2000);
    f.cleanup();
  }
});

Deno.test("giving up does not SIGKILL a container pid that was reaped and reused", async () => {
  const f = fixture("ok");
  const s = new MonitorSession(f.cfg, {});
  let newcomer: number | undefined;
  try {
    const [gone, reused] = await reapedAndReused(s.reaper);
    newcomer = reused;
    s.pid = gone;
    s.stage = "created";
    const r = await giveUp(s, new Error("a step threw"));
    assert.equal(r.ok, false);
    assert(alive(newcomer), "giving up killed the process that reused the pid");
  } finally {
    if (newcomer !== undefined) killOwn(newcomer);
    f.cleanup();
  }
});

/**
 * The OOM watcher against a fake cgroup v2 tree in a temp dir: inotify works
 * on ordinary files, so writing memory.events plays the kernel's part.
 */
import assert from "node:assert/strict";
import { type OomVerdict, OomWatcher } from "../../src/oom/watcher.ts";
import type { MemoryCgroup } from "../../src/cgroup/paths.ts";
import { Poller } from "../../src/sys/poller.ts";
import { readMemoryUsage, readOomCounters } from "../../src/cgroup/memory_files.ts";
import { addDiagSink } from "../../src/diag.ts";

const said: string[] = [];
addDiagSink((m) => said.push(m));

const events = (oomKill: number) => `low 0\nhigh 0\nmax 0\noom ${oomKill}\noom_kill ${oomKill}\n`;

/** The verdict without the counters, for comparisons. */
function pick(v: OomVerdict) {
  return { oomKilled: v.oomKilled, oomKillCount: v.oomKillCount, source: v.source };
}

function fakeTree(): { root: string; cg: MemoryCgroup } {
  const root = Deno.makeTempDirSync();
  const dir = `${root}/parent/ctr`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${root}/parent/memory.events`, events(5));
  Deno.writeTextFileSync(`${dir}/memory.events`, events(2));
  return { root, cg: { version: 2, path: "/parent/ctr", dir, mountPoint: root } };
}

function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error("condition not met in time"));
      setTimeout(tick, 5);
    };
    tick();
  });
}

Deno.test("a counter that grows during the container's life is seen at once and gives the verdict", async () => {
  const { root, cg } = fakeTree();
  const poller = new Poller();
  const w = OomWatcher.open(cg)!;
  const seen: number[] = [];
  w.watch(poller, (n) => seen.push(n));
  Deno.writeTextFileSync(`${cg.dir}/memory.events`, events(3));
  await until(() => seen.length > 0);
  assert.deepEqual(seen, [1]);
  assert.deepEqual(pick(w.verdict()), { oomKilled: true, oomKillCount: 1, source: "cgroup" });
  w.close();
  poller.close();
  Deno.removeSync(root, { recursive: true });
});

Deno.test("a kill with no event seen is still caught by the final read", () => {
  const { root, cg } = fakeTree();
  const w = OomWatcher.open(cg)!; // never watched: no events at all
  Deno.writeTextFileSync(`${cg.dir}/memory.events`, events(4));
  const v = w.verdict();
  assert.deepEqual(pick(v), { oomKilled: true, oomKillCount: 2, source: "cgroup" });
  assert.equal(v.finalRead, true);
  assert.deepEqual(v.counters?.events, { low: 0, high: 0, max: 0, oom: 4, oom_kill: 4 });
  Deno.removeSync(root, { recursive: true });
});

Deno.test("a counter already non-zero at start is not an OOM kill of this container", () => {
  const { root, cg } = fakeTree();
  const w = OomWatcher.open(cg)!;
  assert.deepEqual(pick(w.verdict()), { oomKilled: false, oomKillCount: 0, source: "cgroup" });
  Deno.removeSync(root, { recursive: true });
});

Deno.test("the neighbour's kill: a sibling OOM-killed, this cgroup removed before its final read: not OOMKilled", () => {
  const { root, cg } = fakeTree();
  Deno.mkdirSync(`${root}/parent/sibling`);
  Deno.writeTextFileSync(`${root}/parent/sibling/memory.events`, events(0));
  const w = OomWatcher.open(cg)!;
  // The sibling's kill: its own counter and every ancestor's (hierarchical) grow.
  Deno.writeTextFileSync(`${root}/parent/sibling/memory.events`, events(1));
  Deno.writeTextFileSync(`${root}/parent/memory.events`, events(6));
  // systemd removes this container's empty scope before the monitor reads it.
  Deno.removeSync(cg.dir, { recursive: true });
  const v = w.verdict();
  assert.deepEqual(pick(v), { oomKilled: false, oomKillCount: 0, source: "last-seen" });
  assert.equal(v.finalRead, false, "the status file says the final read was missed");
  assert.equal(v.counters, null);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("a kill seen while the cgroup lived stands when it is gone at the final read", async () => {
  const { root, cg } = fakeTree();
  const poller = new Poller();
  const w = OomWatcher.open(cg)!;
  const seen: number[] = [];
  w.watch(poller, (n) => seen.push(n));
  Deno.writeTextFileSync(`${cg.dir}/memory.events`, events(3));
  await until(() => seen.length > 0);
  Deno.removeSync(cg.dir, { recursive: true });
  const v = w.verdict();
  assert.deepEqual(pick(v), { oomKilled: true, oomKillCount: 1, source: "last-seen" });
  assert.equal(v.finalRead, false);
  w.close();
  poller.close();
  Deno.removeSync(root, { recursive: true });
});

Deno.test("cgroup removed, parent unchanged: no OOM, from the last value seen", () => {
  const { root, cg } = fakeTree();
  const w = OomWatcher.open(cg)!;
  Deno.removeSync(cg.dir, { recursive: true });
  assert.deepEqual(pick(w.verdict()), { oomKilled: false, oomKillCount: 0, source: "last-seen" });
  Deno.removeSync(root, { recursive: true });
});

Deno.test("no readable counter: no watcher (the caller reports no cgroup)", () => {
  const root = Deno.makeTempDirSync();
  assert.equal(
    OomWatcher.open({ version: 2, path: "/x", dir: `${root}/x`, mountPoint: root }),
    undefined,
  );
  Deno.removeSync(root, { recursive: true });
});

Deno.test("v2 cgroup without memory.events (no memory controller there): no watcher, no error, as conmon 2.2", () => {
  const root = Deno.makeTempDirSync();
  const dir = `${root}/system.slice/ctr.scope`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/cgroup.controllers`, "cpu io pids\n");
  Deno.writeTextFileSync(`${dir}/cgroup.procs`, "1234\n");
  const cg: MemoryCgroup = { version: 2, path: "/system.slice/ctr.scope", dir, mountPoint: root };
  const before = said.length;
  assert.equal(OomWatcher.open(cg), undefined);
  assert.equal(readOomCounters(dir, 2), undefined);
  assert.deepEqual(readMemoryUsage(dir, 2), {
    peak: null,
    limit: null,
    high: null,
    swapPeak: null,
    swapLimit: null,
    pressure: null,
  });
  assert.deepEqual(said.slice(before), [], "nothing said");
  Deno.removeSync(root, { recursive: true });
});

Deno.test("memory.events gone between the baseline and the watch: not an error, no warning; the last value seen", () => {
  const { root, cg } = fakeTree();
  const poller = new Poller();
  const w = OomWatcher.open(cg)!;
  Deno.removeSync(`${cg.dir}/memory.events`);
  const before = said.length;
  w.watch(poller, () => {});
  assert.deepEqual(said.slice(before), [], "nothing said");
  assert.deepEqual(pick(w.verdict()), { oomKilled: false, oomKillCount: 0, source: "last-seen" });
  w.close();
  poller.close();
  Deno.removeSync(root, { recursive: true });
});

Deno.test("cgroup and its scope both removed (crun's SCOPE/container under systemd), a kill in machine.slice: no verdict from an ancestor", () => {
  const root = Deno.makeTempDirSync();
  const dir = `${root}/machine.slice/libpod-x.scope/container`;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${root}/machine.slice/memory.events`, events(4));
  Deno.writeTextFileSync(`${root}/machine.slice/libpod-x.scope/memory.events`, events(0));
  Deno.writeTextFileSync(`${dir}/memory.events`, events(0));
  const w = OomWatcher.open({
    version: 2,
    path: "/machine.slice/libpod-x.scope/container",
    dir,
    mountPoint: root,
  })!;
  // Another container's kill lands in machine.slice; this scope is then removed.
  Deno.writeTextFileSync(`${root}/machine.slice/memory.events`, events(5));
  Deno.removeSync(`${root}/machine.slice/libpod-x.scope`, { recursive: true });
  const v = w.verdict();
  assert.deepEqual(pick(v), { oomKilled: false, oomKillCount: 0, source: "last-seen" });
  assert.equal(v.finalRead, false);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("v1: the counters at death are memory.oom_control and memory.failcnt", () => {
  const root = Deno.makeTempDirSync();
  const dir = `${root}/ctr`;
  Deno.mkdirSync(dir);
  const ctl = (n: number) => `oom_kill_disable 0\nunder_oom 0\noom_kill ${n}\n`;
  Deno.writeTextFileSync(`${dir}/memory.oom_control`, ctl(0));
  Deno.writeTextFileSync(`${dir}/memory.failcnt`, "12\n");
  const w = OomWatcher.open({ version: 1, path: "/ctr", dir, mountPoint: root })!;
  Deno.writeTextFileSync(`${dir}/memory.oom_control`, ctl(1));
  const v = w.verdict();
  assert.deepEqual(pick(v), { oomKilled: true, oomKillCount: 1, source: "cgroup" });
  assert.deepEqual(v.counters, {
    oomKill: 1,
    oomControl: { oom_kill_disable: 0, under_oom: 0, oom_kill: 1 },
    failcnt: 12,
  });
  Deno.removeSync(root, { recursive: true });
});

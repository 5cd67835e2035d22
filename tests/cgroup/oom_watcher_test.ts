/**
 * The OOM watcher against a fake cgroup v2 tree in a temp dir: inotify works
 * on ordinary files, so writing memory.events plays the kernel's part.
 */
import assert from "node:assert/strict";
import { OomWatcher } from "../../src/cgroup/oom_watcher.ts";
import type { MemoryCgroup } from "../../src/cgroup/paths.ts";
import { Poller } from "../../src/sys/poller.ts";

const events = (oomKill: number) => `low 0\nhigh 0\nmax 0\noom ${oomKill}\noom_kill ${oomKill}\n`;

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
  assert.deepEqual(w.verdict(), { oomKilled: true, oomKillCount: 1, source: "cgroup" });
  w.close();
  poller.close();
  Deno.removeSync(root, { recursive: true });
});

Deno.test("a kill with no event seen is still caught by the final read", () => {
  const { root, cg } = fakeTree();
  const w = OomWatcher.open(cg)!; // never watched: no events at all
  Deno.writeTextFileSync(`${cg.dir}/memory.events`, events(4));
  assert.deepEqual(w.verdict(), { oomKilled: true, oomKillCount: 2, source: "cgroup" });
  Deno.removeSync(root, { recursive: true });
});

Deno.test("a counter already non-zero at start is not an OOM kill of this container", () => {
  const { root, cg } = fakeTree();
  const w = OomWatcher.open(cg)!;
  assert.deepEqual(w.verdict(), { oomKilled: false, oomKillCount: 0, source: "cgroup" });
  Deno.removeSync(root, { recursive: true });
});

Deno.test("cgroup removed before the final read: the parent's counter decides", () => {
  const { root, cg } = fakeTree();
  const w = OomWatcher.open(cg)!;
  Deno.removeSync(cg.dir, { recursive: true });
  Deno.writeTextFileSync(`${root}/parent/memory.events`, events(6));
  assert.deepEqual(w.verdict(), { oomKilled: true, oomKillCount: 1, source: "parent" });
  Deno.removeSync(root, { recursive: true });
});

Deno.test("cgroup removed, parent unchanged: no OOM, from the last value seen", () => {
  const { root, cg } = fakeTree();
  const w = OomWatcher.open(cg)!;
  Deno.removeSync(cg.dir, { recursive: true });
  assert.deepEqual(w.verdict(), { oomKilled: false, oomKillCount: 0, source: "last-seen" });
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

Deno.test("cgroup and parent both removed (crun's SCOPE/container under systemd): the nearest ancestor left decides", () => {
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
  // The kill lands, then systemd removes the empty scope before the final read.
  Deno.writeTextFileSync(`${root}/machine.slice/memory.events`, events(5));
  Deno.removeSync(`${root}/machine.slice/libpod-x.scope`, { recursive: true });
  assert.deepEqual(w.verdict(), { oomKilled: true, oomKillCount: 1, source: "parent" });
  Deno.removeSync(root, { recursive: true });
});

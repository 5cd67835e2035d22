import assert from "node:assert/strict";
import { writeFileAtomic } from "../../src/status/atomic_write.ts";
import { type ContainerStatus, writeStatusFile } from "../../src/status/status_file.ts";
import {
  writeExitDirFile,
  writeOomFiles,
  writePersistExitFile,
} from "../../src/status/exit_files.ts";

const status: ContainerStatus = {
  version: 2,
  cid: "c1",
  name: "n",
  pid: 10,
  runtime: "/usr/bin/runc",
  exitCode: 137,
  signal: "SIGKILL",
  oomKilled: true,
  oomKillCount: 1,
  timedOut: false,
  startedAt: "2026-11-23T05:31:07.000000001+00:00",
  finishedAt: "2026-11-23T05:31:08.000000001+00:00",
  cgroup: { version: 2, path: "/a", dir: "/sys/fs/cgroup/a" },
  memory: {
    peakBytes: 1,
    limitBytes: 2,
    highBytes: null,
    swapPeakBytes: 0,
    swapLimitBytes: null,
    pressure: { some: { avg10: 1.5, avg60: 0.2, total: 12 }, full: null },
  },
  oom: {
    source: "cgroup",
    finalRead: true,
    victims: [{
      pid: 10,
      comm: "tail",
      init: true,
      anonRssBytes: 16384,
      fileRssBytes: 0,
      shmemRssBytes: 0,
      oomCgroup: "/a",
      constraint: "CONSTRAINT_MEMCG",
    }],
    initKilled: true,
    groupKill: false,
    globalOom: false,
    victimsSource: "kmsg",
    counters: { events: { oom: 1, oom_kill: 1 } },
  },
};

Deno.test("status file: JSON that reads back the same, and no temp file left", () => {
  const d = Deno.makeTempDirSync();
  writeStatusFile(`${d}/status.json`, status);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${d}/status.json`)), status);
  assert.deepEqual([...Deno.readDirSync(d)].map((e) => e.name), ["status.json"]);
  Deno.removeSync(d, { recursive: true });
});

Deno.test("atomic write replaces a file whole; a failed write leaves the old one and no temp file", () => {
  const d = Deno.makeTempDirSync();
  writeFileAtomic(`${d}/f`, "old");
  writeFileAtomic(`${d}/f`, "new");
  assert.equal(Deno.readTextFileSync(`${d}/f`), "new");
  Deno.mkdirSync(`${d}/dir-in-the-way`);
  assert.throws(() => writeFileAtomic(`${d}/dir-in-the-way`, "x"));
  assert.deepEqual([...Deno.readDirSync(d)].map((e) => e.name).sort(), ["dir-in-the-way", "f"]);
  Deno.removeSync(d, { recursive: true });
});

Deno.test("exit files: decimal code without newline; oom files in bundle and persist dir", () => {
  const d = Deno.makeTempDirSync();
  const t = { cid: "c1", bundle: `${d}/bundle`, persistDir: `${d}/persist`, exitDir: `${d}/exits` };
  Deno.mkdirSync(t.bundle);
  Deno.mkdirSync(t.exitDir);
  writeOomFiles(t);
  writePersistExitFile(t, 137);
  writeExitDirFile(t, 137);
  assert.equal(Deno.readTextFileSync(`${d}/exits/c1`), "137");
  assert.equal(Deno.readTextFileSync(`${d}/persist/exit`), "137");
  assert.equal(Deno.readTextFileSync(`${d}/bundle/oom`), "");
  assert.equal(Deno.readTextFileSync(`${d}/persist/oom`), "");
  Deno.removeSync(d, { recursive: true });
});

Deno.test("atomic write: a 255-byte file name (a 248-char container id and more) still works", () => {
  const d = Deno.makeTempDirSync();
  try {
    for (const len of [248, 255]) {
      const name = "a".repeat(len);
      writeFileAtomic(`${d}/${name}`, "0");
      assert.equal(Deno.readTextFileSync(`${d}/${name}`), "0");
    }
    assert.deepEqual([...Deno.readDirSync(d)].filter((e) => e.name.startsWith(".")), []);
  } finally {
    Deno.removeSync(d, { recursive: true });
  }
});

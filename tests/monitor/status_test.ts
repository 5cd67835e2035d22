/**
 * The report's status is a pure function of the configuration and the
 * exit record the exit phase hands on.
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/cli/config.ts";
import { buildStatus } from "../../src/monitor/report.ts";
import { type ContainerExit, TIMED_OUT_EXIT } from "../../src/monitor/exit.ts";

const cfg = { cid: "c1", name: "web", runtime: "/usr/bin/crun" } as Config;

function exit(over: Partial<ContainerExit> = {}): ContainerExit {
  return {
    pid: 42,
    startedAt: "2026-12-07T08:00:00.000000001+00:00",
    finishedAt: "2026-12-07T08:00:01.000000001+00:00",
    exitCode: 0,
    signal: null,
    timedOut: false,
    oom: { oomKilled: false, oomKillCount: 0, source: "cgroup", finalRead: true, counters: null },
    oomReports: [],
    oomReportsSource: "kmsg",
    memory: {
      peak: 1024,
      limit: null,
      high: null,
      swapPeak: null,
      swapLimit: null,
      pressure: null,
    },
    cgroup: { version: 2, path: "/a/b", dir: "/sys/fs/cgroup/a/b", mountPoint: "/sys/fs/cgroup" },
    ...over,
  };
}

Deno.test("status: a clean exit, with the cgroup and memory figures", () => {
  const s = buildStatus(cfg, exit());
  assert.equal(s.cid, "c1");
  assert.equal(s.name, "web");
  assert.equal(s.pid, 42);
  assert.equal(s.exitCode, 0);
  assert.equal(s.signal, null);
  assert.equal(s.oomKilled, false);
  assert.deepEqual(s.cgroup, { version: 2, path: "/a/b", dir: "/sys/fs/cgroup/a/b" });
  assert.deepEqual(s.memory, {
    peakBytes: 1024,
    limitBytes: null,
    highBytes: null,
    swapPeakBytes: null,
    swapLimitBytes: null,
    pressure: null,
  });
  assert.deepEqual(s.oom.victims, []);
  assert.equal(s.oom.finalRead, true);
});

Deno.test("status: a kill by signal is named, an OOM kill counted", () => {
  const s = buildStatus(
    cfg,
    exit({
      exitCode: 137,
      signal: 9,
      oom: {
        oomKilled: true,
        oomKillCount: 2,
        source: "cgroup",
        finalRead: true,
        counters: { oomKill: 2, events: { oom: 2, oom_kill: 2 } },
      },
    }),
  );
  assert.equal(s.signal, "SIGKILL");
  assert.equal(s.exitCode, 137);
  assert.equal(s.oomKilled, true);
  assert.equal(s.oomKillCount, 2);
  assert.deepEqual(s.oom.counters, { events: { oom: 2, oom_kill: 2 } });
  // Counted, but no report came with it: said, not guessed.
  assert.match(s.oom.victimsSource, /^kmsg: no report named/);
  assert.equal(s.version, 2);
});

Deno.test("status: a timeout, no cgroup found, no name", () => {
  const s = buildStatus(
    { ...cfg, name: undefined },
    exit({ exitCode: TIMED_OUT_EXIT, signal: 9, timedOut: true, cgroup: null }),
  );
  assert.equal(s.exitCode, -1);
  assert.equal(s.timedOut, true);
  assert.equal(s.cgroup, null);
  assert.equal(s.name, null);
});

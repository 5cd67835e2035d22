/**
 * From the kernel's reports (real records, testdata/kmsg) and the counters
 * to the verdict, the status file's `oom` section and the plain messages.
 */
import assert from "node:assert/strict";
import { parseOomReports, reportsInCgroup } from "../../src/oom/oom_report.ts";
import { createKillMessage, describeOom, killLines, withReports } from "../../src/oom/describe.ts";
import type { OomVerdict } from "../../src/oom/watcher.ts";
import { records } from "./fixtures.ts";

const reports = (name: string) => parseOomReports(records(name));

function verdict(over: Partial<OomVerdict> = {}): OomVerdict {
  return {
    oomKilled: false,
    oomKillCount: 0,
    source: "cgroup",
    finalRead: true,
    counters: null,
    ...over,
  };
}

Deno.test("the neighbour's kill is not ours: its report names a sibling cgroup", () => {
  const mine = reportsInCgroup(reports("v2-6.1-memcg.txt"), "/ocimon-neighbour");
  assert.deepEqual(mine, []);
  const missed = verdict({ source: "last-seen", finalRead: false });
  assert.deepEqual(withReports(missed, mine), missed);
});

Deno.test("a final read missed: the kernel's report naming the cgroup decides", () => {
  const mine = reportsInCgroup(reports("v2-6.1-memcg.txt"), "/ocimon-kmsg");
  const v = withReports(verdict({ source: "last-seen", finalRead: false }), mine);
  assert.deepEqual(
    { killed: v.oomKilled, count: v.oomKillCount, source: v.source, finalRead: v.finalRead },
    { killed: true, count: 1, source: "kmsg", finalRead: false },
  );
});

Deno.test("a final read that happened is never overruled by the reports", () => {
  const mine = reportsInCgroup(reports("v2-6.1-group.txt"), "/ocimon-group");
  const read = verdict({ oomKilled: true, oomKillCount: 3 });
  assert.equal(withReports(read, mine), read);
});

Deno.test("victims: the init killed, with its RSS and the cgroup whose limit was hit", () => {
  const mine = reportsInCgroup(reports("v2-6.1-memcg.txt"), "/ocimon-kmsg");
  const oom = describeOom(verdict({ oomKilled: true, oomKillCount: 1 }), mine, 142, "kmsg");
  assert.equal(oom.victims.length, 1);
  const [v] = oom.victims;
  assert.equal(v.pid, 142);
  assert.equal(v.comm, "tail");
  assert.equal(v.init, true);
  assert(v.anonRssBytes! > 8 * 1048576, `anon RSS ${v.anonRssBytes}`);
  assert.equal(v.anonRssBytes! % 1024, 0);
  assert.equal(v.oomCgroup, "/ocimon-kmsg");
  assert.equal(v.constraint, "CONSTRAINT_MEMCG");
  assert.equal(oom.initKilled, true);
  assert.equal(oom.groupKill, false);
  assert.equal(oom.globalOom, false);
  assert.equal(oom.victimsSource, "kmsg");
});

Deno.test("victims: a child killed while the init lives on", () => {
  const mine = reportsInCgroup(reports("v1-6.18-child.txt"), "/ocimon-kmsg");
  const oom = describeOom(verdict({ oomKilled: true, oomKillCount: 1 }), mine, 1, "kmsg");
  assert.deepEqual(oom.victims.map((v) => [v.comm, v.init]), [["tail", false]]);
  assert.equal(oom.initKilled, false);
});

Deno.test("victims: a group kill lists every member once", () => {
  const mine = reportsInCgroup(reports("v2-6.1-group.txt"), "/ocimon-group");
  const oom = describeOom(verdict({ oomKilled: true, oomKillCount: 3 }), mine, 155, "kmsg");
  assert.deepEqual(oom.victims.map((v) => `${v.pid} ${v.comm}`), [
    "157 tail",
    "155 sh",
    "156 sleep",
  ]);
  assert.equal(oom.groupKill, true);
  assert.equal(oom.initKilled, true);
});

Deno.test("victims: a pod's limit names the pod as the cgroup whose limit was hit", () => {
  const mine = reportsInCgroup(reports("v2-6.1-nested.txt"), "/ocimon-pod/ctr");
  const oom = describeOom(verdict({ oomKilled: true, oomKillCount: 1 }), mine, 170, "kmsg");
  assert.equal(oom.victims[0].oomCgroup, "/ocimon-pod");
  assert.deepEqual(reportsInCgroup(reports("v2-6.1-nested.txt"), "/ocimon-pod/ctr2"), []);
});

Deno.test("victims: a global OOM is said as such, with no cgroup limit", () => {
  const mine = reportsInCgroup(reports("v2-6.1-global.txt"), "/ocimon-global");
  const oom = describeOom(verdict({ oomKilled: true, oomKillCount: 1 }), mine, 1, "kmsg");
  assert.equal(oom.globalOom, true);
  assert.equal(oom.victims[0].oomCgroup, null);
  assert.equal(oom.victims[0].constraint, "CONSTRAINT_NONE");
  assert.match(killLines(mine[0], { cid: "c", initPid: 1 })[0], /the machine ran out of memory/);
});

Deno.test("no kill at all: no victims, counters as read", () => {
  const counters = { oomKill: 0, events: { oom: 0, oom_kill: 0 } };
  const oom = describeOom(verdict({ counters }), [], 1, "kmsg");
  assert.deepEqual(oom.victims, []);
  assert.equal(oom.victimsSource, "kmsg");
  assert.deepEqual(oom.counters, { events: { oom: 0, oom_kill: 0 } });
});

Deno.test("/dev/kmsg unreadable: the counters alone, and why", () => {
  const why = "cannot read /dev/kmsg: Operation not permitted";
  const oom = describeOom(verdict({ oomKilled: true, oomKillCount: 1 }), [], 1, why);
  assert.deepEqual(oom.victims, []);
  assert.equal(oom.victimsSource, why);
  const none = describeOom(verdict({ oomKilled: true, oomKillCount: 1 }), [], 1, "kmsg");
  assert.match(none.victimsSource, /^kmsg: no report named/);
});

Deno.test("the diagnostic line: container, victim, main process or child, RSS, limit", () => {
  const [r] = reportsInCgroup(reports("v2-6.1-nested.txt"), "/ocimon-pod/ctr");
  const [line] = killLines(r, { cid: "0123456789abcdef", name: "web", initPid: 170 });
  assert.match(
    line,
    /^OOM kill in container web \(0123456789ab\): tail \(pid 170, the container's main process, anon RSS [\d.]+ MiB\): \/ocimon-pod reached its limit of 16\.0 MiB$/,
  );
});

Deno.test("a kill during create is named: the runtime's init, the cgroup and its limit", () => {
  const all = reports("v1-6.18-comm.txt");
  const msg = createKillMessage(all, "/ocimon-kmsg", "/monitor");
  assert.match(
    msg,
    /^the kernel OOM-killed runc:\[2:INIT\] \(pid 1566\) while the container was being created: \/ocimon-kmsg reached its memory limit of 16\.0 MiB; raise the container's memory limit$/,
  );
  // A systemd scope is matched by its name, wherever its slice is.
  assert.match(createKillMessage(all, "ocimon-kmsg", undefined), /runc:\[2:INIT\]/);
  // The monitor's own cgroup: the advice is for the monitor.
  assert.match(createKillMessage(all, "/other", "/ocimon-kmsg"), /give the monitor's cgroup/);
  // Nothing that names either: nothing said.
  assert.equal(createKillMessage(all, "/other", "/elsewhere"), "");
  assert.equal(createKillMessage(all, "ocimon", undefined), "");
});

/**
 * The OOM report parser on kernel records captured from real kernels
 * (testdata/kmsg), and on those records cut, mixed and forged.
 */
import assert from "node:assert/strict";
import { type KmsgRecord, parseKmsgRecord } from "../../src/oom/kmsg.ts";
import {
  type OomKillReport,
  OomReportParser,
  parseOomReports,
  reportsInCgroup,
} from "../../src/oom/oom_report.ts";
import { records, recordStarting } from "./fixtures.ts";

const only = (name: string): OomKillReport => {
  const reports = parseOomReports(records(name));
  assert.equal(reports.length, 1, `${name}: one report`);
  return reports[0];
};

/** A kernel record as /dev/kmsg gives it, parsed. */
function rec(prio: number, seq: number, flags: string, message: string): KmsgRecord {
  const r = parseKmsgRecord(`${prio},${seq},${seq * 10},${flags};${message}\n`);
  assert.ok(r);
  return r;
}

/** Renumbers records as the kernel would have, from the first one's seq. */
function renumber(recs: KmsgRecord[]): KmsgRecord[] {
  return recs.map((r, i) => ({ ...r, seq: recs[0].seq + i }));
}

/** A report without where it sits in the log, to compare reports from different streams. */
function content(r: OomKillReport): Omit<OomKillReport, "seq" | "usec"> {
  const { seq: _seq, usec: _usec, ...rest } = r;
  return rest;
}

Deno.test("v2 6.1 memcg OOM: limit, cgroups, victim and its memory", () => {
  const r = only("v2-6.1-memcg.txt");
  assert.equal(r.constraint, "CONSTRAINT_MEMCG");
  assert.equal(r.oomMemcg, "/ocimon-kmsg");
  assert.equal(r.taskMemcg, "/ocimon-kmsg");
  assert.equal(r.globalOom, false);
  assert.equal(r.groupKill, false);
  assert.equal(r.limitKb, 16384);
  assert.equal(r.usageKb, 16384);
  assert.deepEqual(r.victims, [{
    pid: 142,
    comm: "tail",
    totalVmKb: 18656,
    anonRssKb: 16152,
    fileRssKb: 1156,
    shmemRssKb: 0,
    uid: 0,
    pgtablesKb: 76,
    oomScoreAdj: 0,
  }]);
  assert.deepEqual(r.fields, {
    constraint: "CONSTRAINT_MEMCG",
    nodemask: "(null)",
    cpuset: "ocimon-kmsg",
    mems_allowed: "0",
    oom_memcg: "/ocimon-kmsg",
    task_memcg: "/ocimon-kmsg",
    task: "tail",
    pid: "142",
    uid: "0",
  });
  assert.equal(r.seq, recordStarting("v2-6.1-memcg.txt", "tail invoked oom-killer").seq);
});

// The same cases on each kernel: a memory.oom.group kill, and a parent's limit
// with the victim in a child cgroup.
const GROUP_AND_NESTED = [
  {
    kernel: "6.1",
    group: [[157, "tail", 15888], [155, "sh", 88], [156, "sleep", 84]],
    nested: [[170, "tail", 18656]],
  },
  {
    kernel: "7.2",
    group: [[239, "tail", 16020], [237, "sh", 112], [238, "sleep", 104]],
    nested: [[251, "tail", 19204]],
  },
]; // deno-fmt-ignore

for (const { kernel, group, nested } of GROUP_AND_NESTED) {
  Deno.test(`v2 ${kernel} group kill: every member once, the first victim first`, () => {
    const r = only(`v2-${kernel}-group.txt`);
    assert.equal(r.groupKill, true);
    assert.equal(r.groupPath, "/ocimon-group");
    assert.equal(r.oomMemcg, "/ocimon-group");
    assert.equal(r.taskMemcg, "/ocimon-group");
    assert.deepEqual(r.victims.map((v) => [v.pid, v.comm, v.anonRssKb]), group);
    assert.equal(r.victimsOmitted, 0);
  });

  Deno.test(`v2 ${kernel} parent's limit, victim in a child: oom_memcg differs from task_memcg`, () => {
    const r = only(`v2-${kernel}-nested.txt`);
    assert.equal(r.oomMemcg, "/ocimon-pod");
    assert.equal(r.taskMemcg, "/ocimon-pod/ctr");
    assert.equal(r.limitKb, 16384);
    assert.deepEqual(r.victims.map((v) => [v.pid, v.comm, v.totalVmKb]), nested);
  });
}

Deno.test("v2 6.1 global OOM (sysrq f): global_oom, no limit, the sacrificed sleep", () => {
  const r = only("v2-6.1-global.txt");
  assert.equal(r.globalOom, true);
  assert.equal(r.constraint, "CONSTRAINT_NONE");
  assert.equal(r.oomMemcg, undefined);
  assert.equal(r.taskMemcg, "/ocimon-global");
  assert.equal(r.limitKb, undefined);
  assert.equal(r.fields.global_oom, "");
  assert.deepEqual(r.victims, [{
    pid: 182,
    comm: "sleep",
    totalVmKb: 2492,
    anonRssKb: 88,
    fileRssKb: 804,
    shmemRssKb: 0,
    uid: 0,
    pgtablesKb: 40,
    oomScoreAdj: 1000,
  }]);
});

Deno.test("v2 7.2 memcg OOM (a kernel allocation hit the limit): limit, cgroups, victim and its memory", () => {
  const r = only("v2-7.2-memcg.txt");
  assert.equal(r.constraint, "CONSTRAINT_MEMCG");
  assert.equal(r.oomMemcg, "/ocimon-kmsg");
  assert.equal(r.taskMemcg, "/ocimon-kmsg");
  assert.equal(r.globalOom, false);
  assert.equal(r.groupKill, false);
  assert.equal(r.limitKb, 16384);
  assert.equal(r.usageKb, 16384);
  assert.deepEqual(r.victims, [{
    pid: 226,
    comm: "tail",
    totalVmKb: 19204,
    anonRssKb: 16240,
    fileRssKb: 1736,
    shmemRssKb: 0,
    uid: 0,
    pgtablesKb: 76,
    oomScoreAdj: 0,
  }]);
  assert.deepEqual(r.fields, {
    constraint: "CONSTRAINT_MEMCG",
    nodemask: "(null)",
    cpuset: "/",
    mems_allowed: "0",
    oom_memcg: "/ocimon-kmsg",
    task_memcg: "/ocimon-kmsg",
    task: "tail",
    pid: "226",
    uid: "0",
  });
  assert.equal(r.seq, recordStarting("v2-7.2-memcg.txt", "tail invoked oom-killer").seq);
});

Deno.test("v2 7.2 global OOM (sysrq f): global_oom, no limit, the sacrificed sleep", () => {
  const r = only("v2-7.2-global.txt");
  assert.equal(r.globalOom, true);
  assert.equal(r.constraint, "CONSTRAINT_NONE");
  assert.equal(r.oomMemcg, undefined);
  assert.equal(r.taskMemcg, "/ocimon-global");
  assert.equal(r.limitKb, undefined);
  assert.equal(r.fields.global_oom, "");
  assert.deepEqual(r.victims, [{
    pid: 263,
    comm: "sleep",
    totalVmKb: 3036,
    anonRssKb: 104,
    fileRssKb: 1856,
    shmemRssKb: 0,
    uid: 0,
    pgtablesKb: 44,
    oomScoreAdj: 1000,
  }]);
});

Deno.test("v1 6.18 memcg OOM, and a child killed while its shell lives on", () => {
  const a = only("v1-6.18-memcg.txt");
  assert.deepEqual([a.oomMemcg, a.taskMemcg, a.limitKb], ["/ocimon-kmsg", "/ocimon-kmsg", 16384]);
  assert.deepEqual(a.victims.map((v) => [v.pid, v.comm, v.anonRssKb, v.fileRssKb]), [
    [6777, "tail", 16256, 1676],
  ]);
  assert.equal(a.fields.cpuset, "/");
  const b = only("v1-6.18-child.txt");
  assert.deepEqual(b.victims.map((v) => [v.pid, v.comm]), [[6834, "tail"]]);
  assert.equal(b.taskMemcg, "/ocimon-kmsg");
});

Deno.test("v1 6.18 parent's limit, victim in a child", () => {
  const r = only("v1-6.18-nested.txt");
  assert.equal(r.oomMemcg, "/ocimon-kmsg-pod");
  assert.equal(r.taskMemcg, "/ocimon-kmsg-pod/ctr");
  assert.deepEqual(r.victims.map((v) => [v.pid, v.comm, v.pgtablesKb]), [[1520, "tail", 80]]);
});

Deno.test("process names with brackets, commas, '=' and ') total-vm:' are read whole", () => {
  const reports = parseOomReports(records("v1-6.18-comm.txt"));
  assert.deepEqual(
    reports.map((r) => [r.victims[0].pid, r.victims[0].comm, r.victims[0].totalVmKb]),
    [
      [1566, "runc:[2:INIT]", 19076],
      [1580, "t,pid=1,uid=0", 19076],
      [1603, "x) total-vm:1kB", 19076],
    ],
  );
  // The summary's pid is the victim's, not the one in its name.
  assert.deepEqual(reports.map((r) => [r.fields.task, r.fields.pid, r.fields.uid]), [
    ["runc:[2:INIT]", "1566", "0"],
    ["t,pid=1,uid=0", "1580", "0"],
    ["x) total-vm:1kB", "1603", "0"],
  ]);
  for (const r of reports) assert.equal(r.taskMemcg, "/ocimon-kmsg");
});

Deno.test("pre-4.19 form: Task in X killed as a result of limit of Y, Kill/Killed process", () => {
  const r = only("v1-4.18-pre419.txt");
  assert.equal(r.taskMemcg, "/ocimon-kmsg-pod/ctr");
  assert.equal(r.oomMemcg, "/ocimon-kmsg-pod");
  assert.equal(r.constraint, undefined);
  assert.equal(r.globalOom, false);
  assert.equal(r.limitKb, 16384);
  assert.deepEqual(r.fields, {});
  assert.deepEqual(r.victims, [{
    pid: 1520,
    comm: "tail",
    totalVmKb: 19076,
    anonRssKb: 16128,
    fileRssKb: 1600,
    shmemRssKb: 0,
  }]);
});

Deno.test("every fixture's reports, read as one log, come out in order", () => {
  const names = [
    "v2-6.1-memcg.txt",
    "v2-6.1-group.txt",
    "v2-6.1-nested.txt",
    "v2-6.1-global.txt",
    "v1-6.18-comm.txt",
    "v1-4.18-pre419.txt",
    "v2-7.2-memcg.txt",
    "v2-7.2-group.txt",
    "v2-7.2-nested.txt",
    "v2-7.2-global.txt",
  ];
  const reports = parseOomReports(names.flatMap(records));
  assert.deepEqual(reports.map((r) => r.victims[0].pid), [
    142,
    157,
    170,
    182,
    1566,
    1580,
    1603,
    1520,
    226,
    239,
    251,
    263,
  ]);
  assert.deepEqual(reports.map((r) => r.victims.length), [1, 3, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1]);
});

Deno.test("a summary split over records (pr_cont), with other records between, is joined", () => {
  const recs = records("v2-6.1-nested.txt");
  const i = recs.findIndex((r) => r.message.startsWith("oom-kill:"));
  const s = recs[i];
  // Cut where the kernel's pr_cont calls meet.
  const pieces = [
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null)",
    ",cpuset=ocimon-pod,mems_allowed=0",
    ",oom_memcg=",
    "/ocimon-pod",
    ",task_memcg=",
    "/ocimon-pod/ctr",
    ",task=tail,pid=170,uid=0",
  ];
  assert.equal(pieces.join(""), s.message);
  const other = recordStarting("v2-6.1-global.txt", "sysrq: Manual OOM execution");
  const forged = rec(14, 0, "c", ",task_memcg=/elsewhere");
  const split = [
    rec(6, 0, "-", pieces[0]),
    rec(6, 0, "c", pieces[1]),
    other,
    forged,
    ...pieces.slice(2).map((p) => rec(6, 0, "c", p)),
  ];
  const cut = renumber([...recs.slice(0, i), ...split, ...recs.slice(i + 1)]);
  const whole = only("v2-6.1-nested.txt");
  const joined = parseOomReports(cut);
  assert.equal(joined.length, 1);
  assert.deepEqual(content(joined[0]), content(whole));
});

Deno.test("a split summary whose end never comes still gives its report, with what arrived", () => {
  const recs = records("v2-6.1-nested.txt");
  const i = recs.findIndex((r) => r.message.startsWith("oom-kill:"));
  const cut = renumber([
    ...recs.slice(0, i),
    rec(6, 0, "-", "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=ocimon-pod"),
    ...recs.slice(i + 1),
  ]);
  const [r] = parseOomReports(cut);
  assert.equal(r.constraint, "CONSTRAINT_MEMCG");
  assert.equal(r.fields.cpuset, "ocimon-pod");
  assert.equal(r.taskMemcg, undefined);
  assert.deepEqual(r.victims.map((v) => v.pid), [170]);
});

Deno.test("a split group line (pr_cont) is joined", () => {
  const recs = records("v2-6.1-group.txt");
  const i = recs.findIndex((r) => r.message.startsWith("Tasks in "));
  const cut = renumber([
    ...recs.slice(0, i),
    rec(6, 0, "-", "Tasks in "),
    rec(6, 0, "c", "/ocimon-group"),
    rec(6, 0, "c", " are going to be killed due to memory.oom.group set"),
    ...recs.slice(i + 1),
  ]);
  const [r] = parseOomReports(cut);
  assert.deepEqual(content(r), content(only("v2-6.1-group.txt")));
});

Deno.test("pieces from another caller (CONFIG_PRINTK_CALLER) are not joined", () => {
  const s = recordStarting("v2-6.1-memcg.txt", "oom-kill:");
  const killed = recordStarting("v2-6.1-memcg.txt", "Memory cgroup out of memory: Killed");
  const [head, tail] = [s.message.slice(0, 60), s.message.slice(60)];
  const p = new OomReportParser();
  p.push({ ...rec(6, 1, "-", head), caller: "T5" });
  p.push({ ...rec(6, 2, "c", ",junk=from another thread"), caller: "T9" });
  p.push({ ...rec(6, 3, "c", tail), caller: "T5" });
  p.push(killed);
  const [r] = p.flush();
  assert.equal(r.fields.junk, undefined);
  assert.equal(r.taskMemcg, "/ocimon-kmsg");
  assert.equal(r.fields.task, "tail");
});

Deno.test("unknown keys are kept, missing keys tolerated", () => {
  const s = recordStarting("v2-6.1-nested.txt", "oom-kill:");
  const killed = recordStarting("v2-6.1-nested.txt", "Memory cgroup out of memory: Killed");
  const parse = (message: string) => parseOomReports([{ ...s, message }, killed])[0];

  const extra = parse(
    s.message.replace(",oom_memcg=", ",bpf_policy=none,oom_memcg=") + ",cg_id=42,new_flag",
  );
  assert.equal(extra.fields.bpf_policy, "none");
  assert.equal(extra.fields.cg_id, "42");
  assert.equal(extra.fields.new_flag, "");
  assert.equal(extra.oomMemcg, "/ocimon-pod");
  assert.equal(extra.taskMemcg, "/ocimon-pod/ctr");
  assert.equal(extra.fields.cpuset, "ocimon-pod");
  assert.equal(extra.fields.pid, "170");

  // A kernel without cpusets prints neither cpuset= nor mems_allowed=.
  const bare = parse(s.message.replace(",cpuset=ocimon-pod,mems_allowed=0", ""));
  assert.equal(bare.fields.cpuset, undefined);
  assert.deepEqual([bare.oomMemcg, bare.taskMemcg], ["/ocimon-pod", "/ocimon-pod/ctr"]);

  const least = parse("oom-kill:task=tail,pid=170,uid=0");
  assert.deepEqual(least.fields, { task: "tail", pid: "170", uid: "0" });
  assert.equal(least.taskMemcg, undefined);
  assert.equal(least.constraint, undefined);
  assert.equal(least.globalOom, false);
});

Deno.test("cgroup names holding the summary's separators cannot move the kill elsewhere", () => {
  const s = recordStarting("v2-6.1-nested.txt", "oom-kill:");
  const killed = recordStarting("v2-6.1-nested.txt", "Memory cgroup out of memory: Killed");
  const parse = (message: string) => parseOomReports([{ ...s, message }, killed])[0];
  // A cpuset named "x,oom_memcg=" and a container cgroup named "c,task_memcg=" under /victim.
  const r = parse(
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=x,oom_memcg=,mems_allowed=0," +
      "oom_memcg=/pod,task_memcg=/pod/c,task_memcg=/victim,task=tail,pid=170,uid=0",
  );
  assert.equal(r.fields.cpuset, "x,oom_memcg=");
  assert.equal(r.oomMemcg, "/pod");
  assert.equal(r.taskMemcg, "/pod/c,task_memcg=/victim");
  assert.deepEqual(reportsInCgroup([r], "/victim"), []);
  // A cpuset named "y,global_oom" does not make a memcg OOM global.
  const g = parse(
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=0-1,3,cpuset=y,global_oom,mems_allowed=0-1,3," +
      "oom_memcg=/pod,task_memcg=/pod,task=tail,pid=170,uid=0",
  );
  assert.equal(g.globalOom, false);
  assert.deepEqual([g.fields.nodemask, g.fields.cpuset, g.fields.mems_allowed], [
    "0-1,3",
    "y,global_oom",
    "0-1,3",
  ]);
});

Deno.test("garbage and truncated lines neither throw nor spoil the next report", () => {
  const p = new OomReportParser();
  const junk = [
    "",
    "oom-kill:",
    "oom-kill:,,,=,=x,task=",
    "Killed process",
    "Killed process abc (x)",
    "Memory cgroup out of memory: Killed process 77 (",
    "Memory cgroup out of memory: Killed process 78 (name) total-vm:",
    "memory: usage xkB, limit 1kB, failcnt 0",
    "Tasks in  are going to be killed due to memory.oom.group set",
    "Task in  killed as a result of limit of ",
    "\u0000\uffff\\x00 invoked oom-killer: ",
  ];
  junk.forEach((m, i) => p.push(rec(3, i, "-", m)));
  const early = p.flush();
  for (const r of early) for (const v of r.victims) assert.ok(Number.isInteger(v.pid));
  assert.deepEqual(early.flatMap((r) => r.victims.map((v) => v.pid)), [77, 78]);
  for (const r of records("v2-6.1-nested.txt")) p.push(r);
  const [r] = p.flush();
  assert.deepEqual(content(r), content(only("v2-6.1-nested.txt")));
});

Deno.test("records from user space (facility 1+) are ignored: a kill cannot be forged", () => {
  // What `echo '<3>Memory cgroup out of memory: Killed process …' > /dev/kmsg` logs: the
  // kernel turns facility 0 from user space into 1 (LOG_USER).
  const forged = records("v2-6.1-memcg.txt").map((r) => ({ ...r, facility: 1 }));
  assert.deepEqual(parseOomReports(forged), []);
  // Forged lines in the middle of a real group kill add nobody.
  const recs = records("v2-6.1-group.txt");
  const at = recs.findIndex((r) => r.message.startsWith("Tasks in "));
  const fake = parseKmsgRecord(
    "11,1,1,-;Memory cgroup out of memory: Killed process 1 (init) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n",
  )!;
  assert.equal(fake.facility, 1);
  const mixed = [...recs.slice(0, at + 1), fake, ...recs.slice(at + 1)];
  assert.deepEqual(parseOomReports(mixed).map((r) => r.victims.map((v) => v.pid)), [[
    157,
    155,
    156,
  ]]);
});

Deno.test("a report without a kill (header only) is dropped; one without a summary is kept", () => {
  const recs = records("v2-6.1-memcg.txt");
  const header = recs.filter((r) => !r.message.includes("Killed process"));
  assert.deepEqual(parseOomReports(header), []);
  // The kernel rate-limits the header and summary but not the kill lines.
  const killedOnly = records("v2-6.1-group.txt").filter((r) =>
    r.message.includes("Killed process") || r.message.startsWith("Tasks in ")
  );
  const [r] = parseOomReports(killedOnly);
  assert.equal(r.taskMemcg, undefined);
  assert.equal(r.groupPath, "/ocimon-group");
  assert.deepEqual(r.victims.map((v) => v.pid), [157, 155, 156]);
  const single = parseOomReports(
    records("v2-6.1-memcg.txt").filter((r) => r.message.includes("Killed process")),
  );
  assert.deepEqual(reportsInCgroup(single, "/ocimon-kmsg"), []);
});

Deno.test("a report is complete at the next OOM or at flush(), not before", () => {
  const p = new OomReportParser();
  for (const r of records("v2-6.1-memcg.txt")) p.push(r);
  assert.deepEqual(p.take(), []);
  for (const r of records("v2-6.1-group.txt")) p.push(r);
  assert.deepEqual(p.take().map((r) => r.victims[0].pid), [142]);
  assert.deepEqual(p.flush().map((r) => r.victims.length), [3]);
  assert.deepEqual(p.flush(), []);
});

Deno.test("bounded: victims per report, reports held, a joined line", () => {
  const p = new OomReportParser();
  const killed = (pid: number) =>
    rec(
      3,
      pid,
      "-",
      `Memory cgroup out of memory: Killed process ${pid} (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0`,
    );
  p.push(killed(1));
  p.push(rec(6, 2, "-", "Tasks in /big are going to be killed due to memory.oom.group set"));
  for (let pid = 2; pid <= 5000; pid++) p.push(killed(pid));
  const [big] = p.flush();
  assert.equal(big.victims.length, 1024);
  assert.equal(big.victimsOmitted, 5000 - 1024);

  for (let n = 0; n < 200; n++) {
    p.push(
      rec(4, n, "-", "x invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"),
    );
    p.push(killed(10000 + n));
  }
  const held = p.flush();
  assert.equal(held.length, 64);
  assert.equal(p.dropped, 200 - 64);
  assert.deepEqual(held.map((r) => r.victims[0].pid).slice(-1), [10199]);

  p.push(rec(6, 1, "-", "oom-kill:constraint=CONSTRAINT_MEMCG"));
  for (let n = 0; n < 5000; n++) p.push(rec(6, 2, "c", ",k=" + "v".repeat(100)));
  p.push(killed(7));
  const [long] = p.flush();
  const size = Object.entries(long.fields).reduce((n, [k, v]) => n + k.length + v.length, 0);
  assert.ok(size <= 16384, `fields hold ${size} characters`);
  assert.ok(Object.keys(long.fields).length <= 32);
});

Deno.test("reportsInCgroup: the path or below it, never a sibling with a common prefix", () => {
  const nested = only("v2-6.1-nested.txt"); // task_memcg /ocimon-pod/ctr
  const ids = (path: string) => reportsInCgroup([nested], path).length;
  assert.equal(ids("/ocimon-pod/ctr"), 1);
  assert.equal(ids("/ocimon-pod/ctr/"), 1);
  assert.equal(ids("/ocimon-pod"), 1);
  assert.equal(ids("/"), 1);
  assert.equal(ids("/ocimon-pod/ct"), 0);
  assert.equal(ids("/ocimon-po"), 0);
  assert.equal(ids("/ocimon-pod/ctr/sub"), 0);
  assert.equal(ids("/ocimon-pod/ctr2"), 0);

  const pre = only("v1-4.18-pre419.txt"); // Task in /ocimon-kmsg-pod/ctr
  assert.equal(reportsInCgroup([pre], "/ocimon-kmsg-pod/ctr").length, 1);
  assert.equal(reportsInCgroup([pre], "/ocimon-kmsg-pod/c").length, 0);

  const global = only("v2-6.1-global.txt"); // task_memcg /ocimon-global
  assert.equal(reportsInCgroup([global], "/ocimon-global").length, 1);
  assert.equal(reportsInCgroup([global], "/ocimon-globa").length, 0);
});

Deno.test("reportsInCgroup: a group kill counts for cgroups in its group and for the group's ancestors", () => {
  const g = { ...only("v2-6.1-group.txt"), taskMemcg: "/pod/ctr-a", groupPath: "/pod" };
  assert.equal(reportsInCgroup([g], "/pod/ctr-b").length, 1); // killed with the whole pod
  assert.equal(reportsInCgroup([g], "/pod").length, 1);
  assert.equal(reportsInCgroup([g], "/").length, 1);
  assert.equal(reportsInCgroup([g], "/po").length, 0);
  assert.equal(reportsInCgroup([g], "/pod2/ctr").length, 0);
  assert.equal(reportsInCgroup([only("v2-6.1-group.txt")], "/ocimon-group").length, 1);
});

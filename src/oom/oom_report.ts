/**
 * Assembles the kernel's OOM-kill reports from kernel log records: which
 * cgroup's limit was hit, which cgroup the victim was in, and every process
 * killed (name, pid, memory), for memory-cgroup, group and global OOMs, from
 * Linux 4.19's one-line summary on, and the older `Task in … killed` form.
 *
 * Only the kernel's own records (facility 0) are read: whatever is written to
 * /dev/kmsg from user space gets facility 1 or more, so nobody can forge a
 * kill by writing there. Process names (at most 15 bytes, set freely with
 * prctl) and cgroup names may contain any of the report's separators, so
 * each field is found by the structure the kernel gives it, not by splitting
 * on commas: a name can garble the report of its own kill, not move it to
 * another cgroup.
 *
 * The kernel marks no end to a report: one is complete when the next OOM
 * begins, or when the caller says the kill has settled (`flush`). State is
 * bounded: a flood of records cannot grow it without limit.
 *
 * @module
 */
import type { KmsgRecord } from "./kmsg.ts";

/** A process the kernel killed, from its `Killed process` line. */
export interface OomVictim {
  pid: number;
  /** The process name (comm): at most 15 bytes, any characters. */
  comm: string;
  /** Absent before Linux 5.1. */
  uid?: number;
  totalVmKb?: number;
  anonRssKb?: number;
  fileRssKb?: number;
  shmemRssKb?: number;
  /** Absent before Linux 5.1. */
  pgtablesKb?: number;
  /** Absent before Linux 5.1. */
  oomScoreAdj?: number;
}

/** One OOM kill: the context and every process killed. */
export interface OomKillReport {
  /** CONSTRAINT_MEMCG, CONSTRAINT_NONE, CONSTRAINT_CPUSET, CONSTRAINT_MEMORY_POLICY. */
  constraint?: string;
  /** The cgroup whose limit was hit (its own or an ancestor's of taskMemcg). */
  oomMemcg?: string;
  /** The first victim's memory cgroup. */
  taskMemcg?: string;
  /** Not a memory-cgroup OOM: the machine (or a cpuset or mempolicy) ran out. */
  globalOom: boolean;
  /** memory.oom.group: every process of groupPath was killed. */
  groupKill: boolean;
  groupPath?: string;
  /** The limit and usage of oomMemcg (`memory: usage …, limit …`). */
  limitKb?: number;
  usageKb?: number;
  /** Every process killed, each once, the first victim first. */
  victims: OomVictim[];
  /** Victims past the per-report cap, counted but not kept. */
  victimsOmitted: number;
  /** The summary's key=value pairs as printed (`global_oom` with ""), unknown keys too. */
  fields: Record<string, string>;
  /** Sequence number and time (µs since boot) of the report's first record. */
  seq: number;
  usec: number;
}

/** Completed reports held until taken; the oldest are dropped past this. */
const MAX_REPORTS = 64;
/** Victims kept per report (a group kill lists every member). */
const MAX_VICTIMS = 1024;
/** A line joined from split records stops growing here. */
const MAX_LINE = 16384;
/** Unrelated records a split line waits through for its continuation. */
const MAX_WAIT = 64;
/** Keys kept in `fields`. */
const MAX_FIELDS = 32;
/** TASK_COMM_LEN - 1. */
const COMM_MAX = 15;

const GROUP_TAIL = " are going to be killed due to memory.oom.group set";
const PRE419_SEP = " killed as a result of limit of ";
const USAGE = /^memory: usage (\d+)kB, limit (\d+)kB, failcnt \d+$/;
const KILLED = /^(?:(Memory cgroup out of memory|Out of memory[^:]*): )?Killed process (\d+) \(/;
const PICKED = /^(Memory cgroup out of memory|Out of memory[^:]*): Kill process (\d+) \(/;

/** A report being assembled. */
interface Draft {
  report: OomKillReport;
  summary?: string;
  pids: Set<number>;
}

/** A line printed in pieces (pr_cont) that may still get more. */
interface Pending {
  text: string;
  rec: KmsgRecord;
  waited: number;
}

/** True when `path` is `base` or below it. */
function isUnder(path: string, base: string): boolean {
  if (base === "/") return path.startsWith("/");
  return path === base || path.startsWith(base + "/");
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined;
  return Number(s);
}

function newReport(rec: KmsgRecord): OomKillReport {
  return {
    globalOom: false,
    groupKill: false,
    victims: [],
    victimsOmitted: 0,
    fields: {},
    seq: rec.seq,
    usec: rec.usec,
  };
}

/** Parses what follows `Killed process N (`: the name up to the last `) total-vm:`, then the fields. */
function parseVictim(pid: number, rest: string): OomVictim {
  let end = rest.lastIndexOf(") total-vm:");
  if (end < 0) end = rest.lastIndexOf(")");
  if (end < 0) return { pid, comm: rest };
  const victim: OomVictim = { pid, comm: rest.slice(0, end) };
  const tail = rest.slice(end + 1);
  const field = (re: RegExp) => num(re.exec(tail)?.[1]);
  const set = <K extends keyof OomVictim>(k: K, v: OomVictim[K] | undefined) => {
    if (v !== undefined) victim[k] = v;
  };
  set("totalVmKb", field(/ total-vm:(\d+)kB/));
  set("anonRssKb", field(/ anon-rss:(\d+)kB/));
  set("fileRssKb", field(/ file-rss:(\d+)kB/));
  set("shmemRssKb", field(/ shmem-rss:(\d+)kB/));
  set("uid", field(/ UID:(\d+)/));
  set("pgtablesKb", field(/ pgtables:(\d+)kB/));
  set("oomScoreAdj", field(/ oom_score_adj:(-?\d+)/));
  return victim;
}

/** Splits `text` at one of the occurrences of `sep`, the first for which `ok(left, right)`. */
function splitWhere(
  text: string,
  sep: string,
  ok: (left: string, right: string) => boolean,
): [string, string] | undefined {
  let first: [string, string] | undefined;
  for (let i = text.indexOf(sep); i >= 0; i = text.indexOf(sep, i + 1)) {
    const pair: [string, string] = [text.slice(0, i), text.slice(i + sep.length)];
    if (ok(pair[0], pair[1])) return pair;
    first ??= pair;
  }
  return first;
}

/**
 * Adds key=value pairs and bare flags, split at commas that begin a key: for
 * the parts of the summary that hold no cgroup path.
 */
function addLoose(text: string, fields: Record<string, string>): void {
  for (const tok of text.split(/,(?=[a-z_]+(?:=|,|$))/)) {
    if (!tok) continue;
    const eq = tok.indexOf("=");
    const key = eq < 0 ? tok : tok.slice(0, eq);
    if (!/^[a-z_]+$/.test(key) || key === "__proto__" || Object.hasOwn(fields, key)) continue;
    if (Object.keys(fields).length >= MAX_FIELDS) return;
    fields[key] = eq < 0 ? "" : tok.slice(eq + 1);
  }
}

/**
 * Parses the summary `constraint=…,nodemask=…,cpuset=NAME,mems_allowed=…,
 * oom_memcg=PATH|global_oom,task_memcg=PATH,task=COMM,pid=N,uid=N` into
 * `fields`. `victim` (the first `Killed process` line, whose name is parsed
 * unambiguously) pins down where the task name starts.
 */
function parseSummary(body: string, victim: OomVictim | undefined): Record<string, string> {
  const task: Record<string, string> = {};
  // The tail: task=COMM,pid=N,uid=N, then any keys a later kernel adds.
  let tailAt = -1;
  let after = "";
  if (victim) {
    const exact = `task=${victim.comm},pid=${victim.pid},uid=`;
    const i = body.lastIndexOf(exact);
    const uid = i < 0 ? null : /^\d+/.exec(body.slice(i + exact.length));
    if (i >= 0 && uid && (i === 0 || body[i - 1] === ",")) {
      tailAt = i;
      Object.assign(task, { task: victim.comm, pid: String(victim.pid), uid: uid[0] });
      after = body.slice(i + exact.length + uid[0].length);
    }
  }
  if (tailAt < 0) {
    const tail = new RegExp(`^task=([\\s\\S]{0,${COMM_MAX}}),pid=(\\d+),uid=(\\d+)(?=$|,)`);
    for (let i = body.indexOf("task="); i >= 0; i = body.indexOf("task=", i + 1)) {
      if (i > 0 && body[i - 1] !== ",") continue;
      const m = tail.exec(body.slice(i));
      if (!m) continue;
      tailAt = i;
      Object.assign(task, { task: m[1], pid: m[2], uid: m[3] });
      after = body.slice(i + m[0].length);
      break;
    }
  }
  let head = tailAt < 0 ? body : body.slice(0, Math.max(0, tailAt - 1));
  const fields: Record<string, string> = {};

  // constraint and nodemask: kernel words and numbers only.
  const start = /^constraint=([A-Z_]+),nodemask=(\(null\)|[0-9,-]*)(?=,|$)/.exec(head);
  if (start) {
    fields.constraint = start[1];
    fields.nodemask = start[2];
    head = head.slice(start[0].length);
  }
  // The memory cgroups: paths start with "/", which a cpuset name cannot hold.
  const mc = /,(?:oom_memcg=\/|global_oom(?:,task_memcg=\/|$))/.exec(head);
  const middle = mc ? head.slice(0, mc.index) : head;
  const memcgs = mc ? head.slice(mc.index + 1) : "";
  // cpuset=NAME,mems_allowed=LIST: the list is numbers, so the last such key ends the name.
  const cs = /^,cpuset=([\s\S]*),mems_allowed=([0-9,-]*)$/.exec(middle);
  if (cs) {
    fields.cpuset = cs[1];
    fields.mems_allowed = cs[2];
  } else {
    addLoose(middle.replace(/^,/, ""), fields);
  }
  if (memcgs.startsWith("oom_memcg=")) {
    const both = memcgs.slice("oom_memcg=".length);
    // The victim's cgroup is the one hit or below it: that picks the split
    // when a cgroup name holds ",task_memcg=".
    const pair = splitWhere(both, ",task_memcg=", (o, t) => isUnder(t, o));
    if (pair) [fields.oom_memcg, fields.task_memcg] = pair;
    else fields.oom_memcg = both;
  } else if (memcgs.startsWith("global_oom")) {
    fields.global_oom = "";
    if (memcgs.startsWith("global_oom,task_memcg=")) {
      fields.task_memcg = memcgs.slice("global_oom,task_memcg=".length);
    }
  }
  Object.assign(fields, task);
  addLoose(after.replace(/^,/, ""), fields);
  return fields;
}

/**
 * Reads kernel records one by one and assembles one report per OOM kill.
 * Call `take()` for the reports completed so far, and `flush()` once the
 * kill has settled (at the latest when the caller needs its verdict): a
 * report is otherwise complete only when the next OOM starts. Members of a
 * group kill are logged after the first victim, so flush() right after the
 * first `Killed process` line can split a group kill in two reports.
 */
export class OomReportParser {
  #draft: Draft | undefined;
  #pending: Pending | undefined;
  #done: OomKillReport[] = [];
  #dropped = 0;

  /** Completed reports dropped because nobody took them in time. */
  get dropped(): number {
    return this.#dropped;
  }

  push(rec: KmsgRecord): void {
    if (rec.facility !== 0) return;
    const p = this.#pending;
    if (p) {
      if (
        rec.cont && !this.#starts(rec.message) &&
        (!p.rec.caller || !rec.caller || p.rec.caller === rec.caller)
      ) {
        if (p.text.length < MAX_LINE) p.text = (p.text + rec.message).slice(0, MAX_LINE);
        if (this.#complete(p.text)) this.#finishPending();
        return;
      }
      if (!this.#relevant(rec.message) && ++p.waited < MAX_WAIT) return;
      this.#finishPending();
    }
    if (this.#splittable(rec.message) && !this.#complete(rec.message)) {
      this.#pending = { text: rec.message.slice(0, MAX_LINE), rec, waited: 0 };
      return;
    }
    this.#line(rec.message, rec);
  }

  /** Reports completed so far (each returned once). */
  take(): OomKillReport[] {
    const out = this.#done;
    this.#done = [];
    return out;
  }

  /** Completes the report in progress, if it has a victim, and returns every completed report. */
  flush(): OomKillReport[] {
    this.#finishPending();
    if (this.#draft && this.#draft.report.victims.length > 0) this.#close();
    return this.take();
  }

  /** Lines the kernel builds with pr_cont, which can arrive in pieces. */
  #splittable(msg: string): boolean {
    return msg.startsWith("oom-kill:") || msg.startsWith("Task in ") || msg.startsWith("Tasks in ");
  }

  #starts(msg: string): boolean {
    return this.#splittable(msg) || msg.includes(" invoked oom-killer: ") || KILLED.test(msg);
  }

  #complete(text: string): boolean {
    if (text.startsWith("oom-kill:")) return /,pid=\d+,uid=\d+$/.test(text);
    if (text.startsWith("Tasks in ")) return text.endsWith(GROUP_TAIL);
    const i = text.indexOf(PRE419_SEP);
    return i >= 0 && i + PRE419_SEP.length < text.length;
  }

  #relevant(msg: string): boolean {
    return this.#starts(msg) || USAGE.test(msg) || PICKED.test(msg);
  }

  #finishPending(): void {
    const p = this.#pending;
    this.#pending = undefined;
    if (p) this.#line(p.text, p.rec);
  }

  /** The draft for `rec`, a new one if `fresh` says the current one is past this point. */
  #draftFor(rec: KmsgRecord, fresh: (d: Draft) => boolean): Draft {
    if (this.#draft && fresh(this.#draft)) this.#close();
    this.#draft ??= { report: newReport(rec), pids: new Set() };
    return this.#draft;
  }

  #line(msg: string, rec: KmsgRecord): void {
    if (msg.includes(" invoked oom-killer: ")) {
      this.#draftFor(rec, () => true);
      return;
    }
    const usage = USAGE.exec(msg);
    if (usage) {
      const d = this.#draftFor(rec, (d) => this.#past(d) || d.report.limitKb !== undefined);
      d.report.usageKb = Number(usage[1]);
      d.report.limitKb = Number(usage[2]);
      return;
    }
    if (msg.startsWith("oom-kill:")) {
      const d = this.#draftFor(rec, (d) => this.#past(d));
      d.summary = msg.slice("oom-kill:".length);
      return;
    }
    if (msg.startsWith("Task in ")) {
      const paths = msg.slice("Task in ".length);
      const d = this.#draftFor(rec, (d) => this.#past(d) || d.report.taskMemcg !== undefined);
      const pair = splitWhere(paths, PRE419_SEP, (t, o) => isUnder(t, o));
      if (pair) [d.report.taskMemcg, d.report.oomMemcg] = pair;
      return;
    }
    if (msg.startsWith("Tasks in ") && msg.endsWith(GROUP_TAIL)) {
      const d = this.#draftFor(rec, (d) => d.report.groupKill);
      d.report.groupKill = true;
      d.report.groupPath = msg.slice("Tasks in ".length, msg.length - GROUP_TAIL.length);
      return;
    }
    const picked = PICKED.exec(msg);
    if (picked) {
      // Before 4.19: the process picked, before a child may be sacrificed for it.
      const d = this.#draftFor(rec, (d) => d.report.victims.length > 0);
      if (picked[1].startsWith("Out of memory")) d.report.globalOom = true;
      return;
    }
    const killed = KILLED.exec(msg);
    if (killed) {
      const pid = Number(killed[2]);
      const d = this.#draftFor(
        rec,
        (d) => !d.report.groupKill && d.report.victims.length > 0 && !d.pids.has(pid),
      );
      if (killed[1]?.startsWith("Out of memory")) d.report.globalOom = true;
      if (d.pids.has(pid)) return;
      if (d.report.victims.length >= MAX_VICTIMS) {
        d.report.victimsOmitted++;
        return;
      }
      d.pids.add(pid);
      d.report.victims.push(parseVictim(pid, msg.slice(killed[0].length)));
    }
  }

  /** True once the draft has its summary or a victim: a new summary starts another report. */
  #past(d: Draft): boolean {
    return d.summary !== undefined || d.report.victims.length > 0;
  }

  /** Ends the draft: kept if it killed someone. */
  #close(): void {
    const d = this.#draft;
    this.#draft = undefined;
    if (!d || d.report.victims.length === 0) return;
    const r = d.report;
    if (d.summary !== undefined) {
      r.fields = parseSummary(d.summary, r.victims[0]);
      const f = r.fields;
      if (f.constraint !== undefined) r.constraint = f.constraint;
      if (f.oom_memcg !== undefined) r.oomMemcg = f.oom_memcg;
      if (f.task_memcg !== undefined) r.taskMemcg = f.task_memcg;
      if (
        "global_oom" in f || (f.constraint !== undefined && f.constraint !== "CONSTRAINT_MEMCG")
      ) {
        r.globalOom = true;
      }
    }
    this.#done.push(r);
    if (this.#done.length > MAX_REPORTS) {
      this.#done.shift();
      this.#dropped++;
    }
  }
}

/** The reports in a finished sequence of records (flushed at the end). */
export function parseOomReports(records: Iterable<KmsgRecord>): OomKillReport[] {
  const parser = new OomReportParser();
  const out: OomKillReport[] = [];
  for (const rec of records) {
    parser.push(rec);
    out.push(...parser.take());
  }
  out.push(...parser.flush());
  return out;
}

/**
 * The reports of kills in `cgroupPath` (a memory cgroup's path inside its
 * hierarchy, as /proc/PID/cgroup gives it) or below it: the victim's cgroup
 * (`task_memcg`, or before 4.19 the `Task in` path) is that path or a
 * descendant, never a sibling sharing a prefix. A group kill also counts
 * when its group holds that path or is held by it, since it killed every
 * process there. Reports without a victim cgroup (the kernel rate-limits
 * everything but the `Killed process` lines) match nothing.
 */
export function reportsInCgroup(reports: OomKillReport[], cgroupPath: string): OomKillReport[] {
  const base = cgroupPath.length > 1 ? cgroupPath.replace(/\/+$/, "") : cgroupPath;
  return reports.filter((r) =>
    (r.taskMemcg !== undefined && isUnder(r.taskMemcg, base)) ||
    (r.groupKill && r.groupPath !== undefined &&
      (isUnder(r.groupPath, base) || isUnder(base, r.groupPath)))
  );
}

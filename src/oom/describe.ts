/**
 * From the counters and the kernel's reports to what the status file and
 * the diagnostics say about OOM kills in one container. Pure functions:
 * everything they decide comes in as arguments.
 *
 * A kill counts for the container only when the kernel says it happened in
 * the container's cgroup: its own counter, or a report whose task_memcg
 * (or memory.oom.group) names that cgroup. An ancestor's total, which also
 * counts every sibling's kills, never decides.
 *
 * @module
 */
import type { OomStatus, OomVictimStatus } from "../status/status_file.ts";
import type { OomVerdict } from "./watcher.ts";
import type { OomKillReport } from "./oom_report.ts";

/**
 * The verdict, with the kernel's reports as evidence where the final read
 * of the counters was missed (the cgroup was gone): the victims they name in
 * the container's cgroup count then, and never lower what was read before.
 */
export function withReports(verdict: OomVerdict, mine: readonly OomKillReport[]): OomVerdict {
  if (verdict.finalRead) return verdict;
  const named = victimCount(mine);
  if (named <= verdict.oomKillCount) return verdict;
  return { ...verdict, oomKilled: true, oomKillCount: named, source: "kmsg" };
}

function victimCount(reports: readonly OomKillReport[]): number {
  return new Set(reports.flatMap((r) => r.victims.map((v) => v.pid))).size;
}

const kib = (n: number | undefined) => (n === undefined ? null : n * 1024);

/** The status file's `oom` section. `initPid` is the container's init (or exec'd process). */
export function describeOom(
  verdict: OomVerdict,
  mine: readonly OomKillReport[],
  initPid: number,
  /** "kmsg", or why the kernel's reports could not be read. */
  reportsSource: string,
): OomStatus {
  const victims: OomVictimStatus[] = [];
  const seen = new Set<number>();
  for (const r of mine) {
    for (const v of r.victims) {
      if (seen.has(v.pid)) continue;
      seen.add(v.pid);
      victims.push({
        pid: v.pid,
        comm: v.comm,
        init: v.pid === initPid,
        anonRssBytes: kib(v.anonRssKb),
        fileRssBytes: kib(v.fileRssKb),
        shmemRssBytes: kib(v.shmemRssKb),
        oomCgroup: r.globalOom ? null : r.oomMemcg ?? null,
        constraint: r.constraint ?? null,
      });
    }
  }
  const c = verdict.counters;
  return {
    source: verdict.source,
    finalRead: verdict.finalRead,
    victims,
    initKilled: victims.some((v) => v.init),
    groupKill: mine.some((r) => r.groupKill),
    globalOom: mine.some((r) => r.globalOom),
    victimsSource: victimsSource(mine, verdict.oomKillCount, reportsSource),
    counters: c
      ? {
        ...(c.events ? { events: c.events } : {}),
        ...(c.eventsLocal ? { eventsLocal: c.eventsLocal } : {}),
        ...(c.oomControl ? { oomControl: c.oomControl } : {}),
        ...(c.failcnt !== undefined ? { failcnt: c.failcnt } : {}),
      }
      : null,
  };
}

function victimsSource(
  mine: readonly OomKillReport[],
  killCount: number,
  reportsSource: string,
): string {
  if (reportsSource !== "kmsg") return reportsSource;
  if (killCount > 0 && mine.length === 0) {
    return "kmsg: no report named the container's cgroup (rate-limited or overwritten)";
  }
  return "kmsg";
}

/** MESSAGE_ID of the journal entry for each OOM kill (`journalctl MESSAGE_ID=…`). */
export const OOM_KILL_MESSAGE_ID = "8c1a5f7b2e6d4c0e9a3b71d25f04e6a9";

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** One line per victim, for the diagnostics and the journal. */
export function killLines(
  report: OomKillReport,
  container: { cid: string; name?: string; initPid: number },
): string[] {
  const who = container.name
    ? `${container.name} (${container.cid.slice(0, 12)})`
    : container.cid.slice(0, 12);
  const limit = report.globalOom
    ? "the machine ran out of memory"
    : `${report.oomMemcg ?? "its cgroup"} reached its limit` +
      (report.limitKb !== undefined ? ` of ${mib(report.limitKb * 1024)}` : "");
  return report.victims.map((v) =>
    `OOM kill in container ${who}: ${v.comm} (pid ${v.pid}, ` +
    `${v.pid === container.initPid ? "the container's main process" : "a child"}` +
    (v.anonRssKb !== undefined ? `, anon RSS ${mib(v.anonRssKb * 1024)}` : "") +
    `)${report.groupKill ? " in a group kill" : ""}: ${limit}`
  );
}

/**
 * The plain words for an OOM kill during create: which process (the
 * runtime's init, usually), which cgroup hit which limit, and what to do.
 * `container` is the container's cgroup path, or the last part of it (a
 * systemd scope's name); `own` the monitor's cgroup path. "" when no report
 * names either.
 */
export function createKillMessage(
  reports: readonly OomKillReport[],
  container: string | undefined,
  own: string | undefined,
): string {
  const names = (path: string | undefined, want: string | undefined) =>
    path !== undefined && want !== undefined &&
    (path === want || path.startsWith(`${want.replace(/\/+$/, "")}/`) ||
      (!want.startsWith("/") && (path.endsWith(`/${want}`) || path.includes(`/${want}/`))));
  for (const r of reports) {
    const inContainer = names(r.taskMemcg, container);
    if (!inContainer && !names(r.taskMemcg, own)) continue;
    const v = r.victims[0];
    if (!v) continue;
    const limit = r.limitKb !== undefined ? ` of ${mib(r.limitKb * 1024)}` : "";
    const where = r.globalOom
      ? "the machine ran out of memory"
      : `${r.oomMemcg ?? r.taskMemcg} reached its memory limit${limit}`;
    const advice = r.globalOom
      ? "free memory on the host"
      : inContainer
      ? "raise the container's memory limit"
      : "give the monitor's cgroup more memory";
    return `the kernel OOM-killed ${v.comm} (pid ${v.pid}) while the container was being ` +
      `created: ${where}; ${advice}`;
  }
  return "";
}

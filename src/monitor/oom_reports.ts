/**
 * The kernel's OOM reports for one container, while the monitor watches it:
 * read a moment after a kill is counted (the kernel logs a group kill's
 * members after the first victim) and once more at the exit, each kill in
 * the container's cgroup said once in the diagnostics, with a MESSAGE_ID
 * for the journal.
 *
 * @module
 */
import type { OomKillReport } from "../oom/oom_report.ts";
import { createKillMessage, killLines, OOM_KILL_MESSAGE_ID } from "../oom/describe.ts";
import { memoryCgroupOf } from "../cgroup/paths.ts";
import { diag, diagOnce } from "../diag.ts";
import { attempt, type MonitorSession } from "./session.ts";
import { after, type Timer } from "../util/timer.ts";

/** How long after a counted kill its report is read. */
const SETTLE_MS = 100;

export class OomReports {
  #timer: Timer | undefined;

  constructor(
    readonly session: MonitorSession,
    readonly cgroupPath: string,
    readonly initPid: number,
  ) {}

  /** A kill was counted: read its report once it has settled. */
  soon(): void {
    if (this.#timer !== undefined || this.#unavailable()) return;
    this.#timer = after(SETTLE_MS, () => {
      this.#timer = undefined;
      attempt("reading the kernel's OOM reports", () => this.now());
    });
  }

  /** Reads what the kernel logged; returns every report naming the container's cgroup. */
  async now(): Promise<OomKillReport[]> {
    this.cancel();
    const evidence = this.session.oomEvidence;
    if (!evidence || this.#unavailable()) return [];
    await evidence.collect();
    const { reportsInCgroup } = await import("../oom/oom_report.ts");
    const mine = reportsInCgroup([...evidence.reports], this.cgroupPath);
    for (const r of mine) this.#announce(r);
    return mine;
  }

  /** True, said once, when the kernel's reports cannot be read. */
  #unavailable(): boolean {
    const why = this.session.oomEvidence?.unavailable;
    if (why) diagOnce("kmsg", `OOM victims cannot be named: ${why}; the counters alone decide`);
    return why !== undefined;
  }

  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #announce(r: OomKillReport): void {
    const { announced, cfg } = this.session;
    if (announced.has(r)) return;
    announced.add(r);
    const container = { cid: cfg.cid, name: cfg.name, initPid: this.initPid };
    const lines = killLines(r, container);
    r.victims.forEach((v, i) => {
      diag(lines[i], "warn", {
        MESSAGE_ID: OOM_KILL_MESSAGE_ID,
        OCIMON_VICTIM_PID: String(v.pid),
        OCIMON_VICTIM_COMM: v.comm,
        ...(r.oomMemcg ? { OCIMON_OOM_CGROUP: r.oomMemcg } : {}),
      });
    });
  }
}

/**
 * When create (or exec) failed: whether the kernel OOM-killed the runtime's
 * init or the runtime in the container's cgroup (from the bundle's
 * cgroupsPath) or in the monitor's own, said for a person; "" if not.
 */
export async function createTimeKill(s: MonitorSession): Promise<string> {
  const evidence = s.oomEvidence;
  if (!evidence || evidence.unavailable) return "";
  await evidence.collect();
  const own = memoryCgroupOf("self")?.path;
  return createKillMessage([...evidence.reports], containerCgroupHint(s.cfg.bundle), own);
}

/**
 * The container's cgroup as the bundle asks for it: a cgroupfs path, or for
 * the systemd driver ("slice:prefix:name") the scope's name, which ends the
 * path whatever slice it lands in.
 */
export function containerCgroupHint(bundle: string): string | undefined {
  let path: unknown;
  try {
    path = JSON.parse(Deno.readTextFileSync(`${bundle}/config.json`))?.linux?.cgroupsPath;
  } catch {
    return undefined;
  }
  if (typeof path !== "string" || path === "") return undefined;
  const parts = path.split(":");
  if (parts.length === 3 && !path.startsWith("/")) {
    const [, prefix, name] = parts;
    return name.endsWith(".slice") ? name : `${prefix ? `${prefix}-` : ""}${name}.scope`;
  }
  return path;
}

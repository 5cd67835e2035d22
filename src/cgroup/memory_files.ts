/**
 * Reading the memory controller's files: flat-keyed counters
 * (`memory.events`, v1 `memory.oom_control`) and single values.
 *
 * @module
 */

/** Parses "key value" lines; lines that are not exactly that are skipped. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+) (\d+)$/.exec(line.trim());
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** The `oom_kill` counter of a memory.events or memory.oom_control text. */
export function oomKillCount(text: string): number | undefined {
  return parseFlatKeyed(text).get("oom_kill");
}

/** The file holding the oom_kill counter for each cgroup version. */
export function oomCounterFile(version: 1 | 2): string {
  return version === 2 ? "memory.events" : "memory.oom_control";
}

/** Reads the oom_kill counter of a cgroup dir; undefined if unreadable. */
export function readOomKill(dir: string, version: 1 | 2): number | undefined {
  try {
    return oomKillCount(Deno.readTextFileSync(`${dir}/${oomCounterFile(version)}`));
  } catch {
    return undefined;
  }
}

/**
 * The OOM counters of a cgroup at one moment, as the kernel names them: on
 * v2 `memory.events` (hierarchical) and `memory.events.local` (this cgroup
 * alone); on v1 `memory.oom_control` and `memory.failcnt`.
 */
export interface OomCounters {
  /** The kills counted for this cgroup (v2: and below it). */
  oomKill: number;
  /** v2 `memory.events`: low, high, max, oom, oom_kill, oom_group_kill (5.17+). */
  events?: Record<string, number>;
  /** v2 `memory.events.local`, where the kernel has it (5.7+). */
  eventsLocal?: Record<string, number>;
  /** v1 `memory.oom_control`: oom_kill_disable, under_oom, oom_kill (4.13+). */
  oomControl?: Record<string, number>;
  /** v1 `memory.failcnt`: how often usage hit the limit. */
  failcnt?: number;
}

/** Reads a cgroup's OOM counters; undefined if the counter file cannot be read. */
export function readOomCounters(dir: string, version: 1 | 2): OomCounters | undefined {
  const main = readFlatKeyed(`${dir}/${oomCounterFile(version)}`);
  const oomKill = main?.get("oom_kill");
  if (oomKill === undefined) return undefined;
  if (version === 2) {
    const local = readFlatKeyed(`${dir}/memory.events.local`);
    return {
      oomKill,
      events: Object.fromEntries(main!),
      ...(local ? { eventsLocal: Object.fromEntries(local) } : {}),
    };
  }
  const failcnt = readBytes(`${dir}/memory.failcnt`);
  return {
    oomKill,
    oomControl: Object.fromEntries(main!),
    ...(typeof failcnt === "number" ? { failcnt } : {}),
  };
}

function readFlatKeyed(path: string): Map<string, number> | undefined {
  try {
    return parseFlatKeyed(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
}

/** A byte value file ("max" is no limit); undefined if absent or unreadable. */
export function readBytes(path: string): number | null | undefined {
  try {
    const s = Deno.readTextFileSync(path).trim();
    if (s === "max") return null;
    return /^\d+$/.test(s) ? Number(s) : undefined;
  } catch {
    return undefined;
  }
}

/** v1 reports "no limit" as a huge page-aligned number. */
const V1_UNLIMITED = 0x7ffffffffffff000;

export interface PressureLine {
  avg10: number;
  avg60: number;
  total: number;
}

export interface MemoryUsage {
  /** Peak usage in bytes, where the kernel reports it. */
  peak: number | null;
  /** The limit in bytes, null for none. */
  limit: number | null;
  /** v2 memory.high, null for none or unknown. */
  high: number | null;
  swapPeak: number | null;
  /** The swap limit (v1: memory+swap), null for none or unknown. */
  swapLimit: number | null;
  pressure: { some: PressureLine; full: PressureLine | null } | null;
}

/** Parses memory.pressure: `some avg10=… avg60=… avg300=… total=…` and `full …`. */
export function parsePressure(text: string): MemoryUsage["pressure"] {
  const lines: Record<string, PressureLine> = {};
  for (const line of text.split("\n")) {
    const m = /^(some|full) (.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries(m[2].split(" ").map((p) => p.split("=")));
    const avg10 = Number(kv.avg10), avg60 = Number(kv.avg60), total = Number(kv.total);
    if ([avg10, avg60, total].some((n) => !Number.isFinite(n))) continue;
    lines[m[1]] = { avg10, avg60, total };
  }
  return lines.some ? { some: lines.some, full: lines.full ?? null } : null;
}

function readPressure(dir: string): MemoryUsage["pressure"] {
  try {
    return parsePressure(Deno.readTextFileSync(`${dir}/memory.pressure`));
  } catch {
    return null; // no PSI in this kernel, or disabled
  }
}

/** Usage, limits and pressure of a memory cgroup; nulls where the kernel has no answer. */
export function readMemoryUsage(dir: string, version: 1 | 2): MemoryUsage {
  const at = (file: string) => readBytes(`${dir}/${file}`) ?? null;
  if (version === 2) {
    return {
      peak: at("memory.peak"),
      limit: at("memory.max"),
      high: at("memory.high"),
      swapPeak: at("memory.swap.peak"),
      swapLimit: at("memory.swap.max"),
      pressure: readPressure(dir),
    };
  }
  const v1Limit = (n: number | null) => n !== null && n >= V1_UNLIMITED ? null : n;
  return {
    peak: at("memory.max_usage_in_bytes"),
    limit: v1Limit(at("memory.limit_in_bytes")),
    high: null,
    swapPeak: at("memory.memsw.max_usage_in_bytes"),
    swapLimit: v1Limit(at("memory.memsw.limit_in_bytes")),
    pressure: null,
  };
}

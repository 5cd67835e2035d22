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

export interface MemoryUsage {
  /** Peak usage in bytes, where the kernel reports it. */
  peak: number | null;
  /** The limit in bytes, null for none. */
  limit: number | null;
}

/** Peak and limit of a memory cgroup; nulls where the kernel has no answer. */
export function readMemoryUsage(dir: string, version: 1 | 2): MemoryUsage {
  if (version === 2) {
    return {
      peak: readBytes(`${dir}/memory.peak`) ?? null,
      limit: readBytes(`${dir}/memory.max`) ?? null,
    };
  }
  const limit = readBytes(`${dir}/memory.limit_in_bytes`) ?? null;
  return {
    peak: readBytes(`${dir}/memory.max_usage_in_bytes`) ?? null,
    limit: limit !== null && limit >= V1_UNLIMITED ? null : limit,
  };
}

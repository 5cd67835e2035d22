/** Per-process figures from /proc. */

/** RSS, PSS and private dirty memory of a process, in KiB. */
export function processMemory(pid: number): { rss: number; pss: number; privateDirty: number } {
  const roll = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(roll)?.[1] ?? NaN);
  return { rss: get("Rss"), pss: get("Pss"), privateDirty: get("Private_Dirty") };
}

/** User + system CPU seconds a process has used, or undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return undefined;
  }
}

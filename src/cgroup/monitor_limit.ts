/**
 * Whether the memory cgroup the monitor runs in (CRI-O's conmon_cgroup, or
 * podman's) lets it start at all. A Deno monitor and the runtime it runs
 * peak at 14.4-14.7 MiB there on cgroup v1 with runc (conmon: ~3 MiB), and
 * need more on v2 with runc 1.1: with V8's --minor-ms, which took ~1 MiB
 * off (bin/ocimon has why it is not used), runc was OOM-killed in create 6
 * times in 25 at 16 MiB and 0 in 25 at 17. Below that, the OOM killer ends
 * the monitor or the runtime, and the caller reads nothing but end-of-file
 * or a failed create. Refusing up front, with the limit named, is
 * predictable. The figures assume Deno's transpile cache is warm (setup.sh's
 * `deno cache`): a monitor that transpiles ocimon's source peaks near 19 MiB.
 *
 * @module
 */
import { dirname } from "../util/path.ts";
import { memoryCgroupOf } from "./paths.ts";
import { readMemoryUsage } from "./memory_files.ts";

/** The smallest memory cgroup a monitor starts in reliably (measured, README). */
export const MIN_MONITOR_CGROUP_MIB = 20;

/** Why our own memory cgroup (or one above it) is too small; undefined if it is not. */
export function monitorCgroupTooSmall(): string | undefined {
  const cg = memoryCgroupOf("self");
  if (!cg) return undefined;
  let least: { limit: number; dir: string } | undefined;
  for (let dir = cg.dir;; dir = dirname(dir)) {
    const { limit } = readMemoryUsage(dir, cg.version);
    if (limit !== null && (!least || limit < least.limit)) least = { limit, dir };
    if (dir === cg.mountPoint || dir === "/") break;
  }
  if (!least || least.limit >= MIN_MONITOR_CGROUP_MIB * 1048576) return undefined;
  const mib = (least.limit / 1048576).toFixed(1).replace(/\.0$/, "");
  return `the monitor's memory cgroup ${least.dir} is limited to ${mib} MiB; ` +
    `ocimon needs at least ${MIN_MONITOR_CGROUP_MIB} MiB while it creates the container`;
}

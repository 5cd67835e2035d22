/**
 * `--cgroup PATH`: move ocimon into a cgroup directory, creating it if
 * needed, before it does anything that costs memory.
 *
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../cli/parse.ts";
import { parseCgroupMounts } from "./paths.ts";

/** The cgroup mount holding `dir`, or throws a UsageError naming --cgroup. */
export function cgroupMountOf(dir: string, mountinfo: string): string {
  const mounts = parseCgroupMounts(mountinfo)
    .map((m) => m.mountPoint)
    .filter((mp) => dir === mp || dir.startsWith(mp.endsWith("/") ? mp : mp + "/"))
    .sort((a, b) => b.length - a.length);
  if (mounts.length === 0) {
    throw new UsageError(`option --cgroup: ${dir} is not inside a mounted cgroup hierarchy`);
  }
  return mounts[0];
}

/** Creates `dir` if needed and moves this process into it. */
export function joinCgroup(dir: string): void {
  cgroupMountOf(dir, Deno.readTextFileSync("/proc/self/mountinfo"));
  Deno.mkdirSync(dir, { recursive: true });
  try {
    Deno.writeTextFileSync(join(dir, "cgroup.procs"), String(Deno.pid));
  } catch (err) {
    throw new UsageError(
      `option --cgroup: cannot join ${dir}: ${err instanceof Error ? err.message : err}`,
    );
  }
}

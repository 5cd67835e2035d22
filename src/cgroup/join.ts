/**
 * `--cgroup PATH`: move ocimon into a cgroup directory, creating it if
 * needed, before it does anything that costs memory.
 *
 * @module
 */
import { join, relative } from "../util/path.ts";
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

/**
 * On cgroup v2 a cgroup has a memory controller only if its parent hands it
 * down: enable it (and pids) from the mount point to `dir`'s parent, as far
 * as each level allows. Best effort: without it we still join, uncharged.
 */
function delegateControllers(mountPoint: string, dir: string): void {
  const rel = relative(mountPoint, dir).split("/").slice(0, -1);
  let at = mountPoint;
  for (const part of ["", ...rel]) {
    at = part ? join(at, part) : at;
    try {
      const available = Deno.readTextFileSync(join(at, "cgroup.controllers")).split(/\s+/);
      const wanted = ["memory", "pids"].filter((c) => available.includes(c));
      if (wanted.length) {
        Deno.writeTextFileSync(
          join(at, "cgroup.subtree_control"),
          wanted.map((c) => `+${c}`).join(" "),
        );
      }
    } catch { /* not allowed here: keep going */ }
  }
}

/** Creates `dir` if needed and moves this process into it. */
export function joinCgroup(dir: string): void {
  const mountinfo = Deno.readTextFileSync("/proc/self/mountinfo");
  const mountPoint = cgroupMountOf(dir, mountinfo);
  const v2 = parseCgroupMounts(mountinfo).some((m) =>
    m.mountPoint === mountPoint && m.fsType === "cgroup2"
  );
  if (v2) delegateControllers(mountPoint, dir);
  Deno.mkdirSync(dir, { recursive: true });
  try {
    Deno.writeTextFileSync(join(dir, "cgroup.procs"), String(Deno.pid));
  } catch (err) {
    throw new UsageError(
      `option --cgroup: cannot join ${dir}: ${err instanceof Error ? err.message : err}`,
    );
  }
}

/**
 * Finds a process's memory cgroup directory from /proc/PID/cgroup and
 * /proc/self/mountinfo, on cgroup v1, v2 and hybrid hosts. Mount points are
 * read, never assumed: cgroupfs need not live at /sys/fs/cgroup.
 *
 * @module
 */
import { dirname, join } from "../util/path.ts";

export type CgroupVersion = 1 | 2;

export interface MemoryCgroup {
  version: CgroupVersion;
  /** The cgroup's path inside its hierarchy, e.g. "/libpod_parent/libpod-ID". */
  path: string;
  /** The directory of that cgroup on this host's filesystem. */
  dir: string;
  /** The mount point of the hierarchy: no parent fallback goes above it. */
  mountPoint: string;
}

export interface CgroupLine {
  id: string;
  controllers: string[];
  path: string;
}

export interface CgroupMount {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** Parses /proc/PID/cgroup; malformed lines are skipped. */
export function parseProcCgroup(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split("\n")) {
    const a = line.indexOf(":");
    const b = a < 0 ? -1 : line.indexOf(":", a + 1);
    if (a < 0 || b < 0) continue;
    const path = line.slice(b + 1);
    if (!path.startsWith("/")) continue;
    const ctl = line.slice(a + 1, b);
    out.push({ id: line.slice(0, a), controllers: ctl ? ctl.split(",") : [], path });
  }
  return out;
}

/** Undoes mountinfo's octal escapes (\040 for space and so on). */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses the cgroup and cgroup2 mounts of /proc/self/mountinfo. */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(" ");
    const post = line.slice(sep + 3).split(" ");
    if (pre.length < 5 || post.length < 3) continue;
    const fsType = post[0];
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    out.push({
      root: unescapeMountField(pre[3]),
      mountPoint: unescapeMountField(pre[4]),
      fsType,
      superOptions: post[2].split(","),
    });
  }
  return out;
}

/** Joins a cgroup path to a mount, accounting for a mount whose root is not "/". */
function dirUnder(mount: CgroupMount, path: string): string | undefined {
  const root = mount.root === "/" ? "" : mount.root;
  if (root && path !== root && !path.startsWith(root + "/")) return undefined;
  return join(mount.mountPoint, path.slice(root.length));
}

/**
 * The memory cgroup of a process. The v1 memory hierarchy wins when it is
 * mounted (hybrid hosts keep memory on v1); otherwise the unified hierarchy.
 */
export function resolveMemoryCgroup(
  procCgroup: string,
  mountinfo: string,
): MemoryCgroup | undefined {
  const lines = parseProcCgroup(procCgroup);
  const mounts = parseCgroupMounts(mountinfo);

  const v1Line = lines.find((l) => l.id !== "0" && l.controllers.includes("memory"));
  if (v1Line) {
    for (const m of mounts) {
      if (m.fsType !== "cgroup" || !m.superOptions.includes("memory")) continue;
      const dir = dirUnder(m, v1Line.path);
      if (dir) return { version: 1, path: v1Line.path, dir, mountPoint: m.mountPoint };
    }
  }
  const v2Line = lines.find((l) => l.id === "0" && l.controllers.length === 0);
  if (v2Line) {
    for (const m of mounts) {
      if (m.fsType !== "cgroup2") continue;
      const dir = dirUnder(m, v2Line.path);
      if (dir) return { version: 2, path: v2Line.path, dir, mountPoint: m.mountPoint };
    }
  }
  return undefined;
}

/** The memory cgroup of a live process, or undefined if it cannot be read. */
export function memoryCgroupOf(pid: number | "self"): MemoryCgroup | undefined {
  try {
    return resolveMemoryCgroup(
      Deno.readTextFileSync(`/proc/${pid}/cgroup`),
      Deno.readTextFileSync("/proc/self/mountinfo"),
    );
  } catch {
    return undefined;
  }
}

/** The parent directory of a cgroup, unless that would leave its hierarchy. */
export function parentDir(cg: MemoryCgroup): string | undefined {
  if (cg.dir === cg.mountPoint) return undefined;
  return dirname(cg.dir);
}

/**
 * The JSON status file (`--status-file`): everything an operator or a test
 * wants to know about how the container ended, in one atomic write.
 *
 * @module
 */
import { writeFileAtomic } from "./atomic_write.ts";

/** A process the kernel OOM-killed in the container's cgroup. */
export interface OomVictimStatus {
  pid: number;
  comm: string;
  /** Whether it was the container's init (or the exec'd process). */
  init: boolean;
  anonRssBytes: number | null;
  fileRssBytes: number | null;
  shmemRssBytes: number | null;
  /** The cgroup whose limit was hit (the kernel's oom_memcg); null for a global OOM. */
  oomCgroup: string | null;
  /** The kernel's constraint: CONSTRAINT_MEMCG, CONSTRAINT_NONE (global), … */
  constraint: string | null;
}

/** What the kernel said about OOM kills in the container's cgroup. */
export interface OomStatus {
  /** Where the kill count came from (see docs/status-file.md). */
  source: "cgroup" | "kmsg" | "systemd" | "last-seen" | "none";
  /** False when the cgroup was gone before the read after the reap. */
  finalRead: boolean;
  victims: OomVictimStatus[];
  initKilled: boolean;
  /** memory.oom.group: the kernel killed every process of the group. */
  groupKill: boolean;
  /** The machine ran out of memory, not a cgroup. */
  globalOom: boolean;
  /** "kmsg", or why the victims are not known. */
  victimsSource: string;
  /** The counters at the final read, as the kernel names them; null if it was missed. */
  counters: {
    events?: Record<string, number>;
    eventsLocal?: Record<string, number>;
    oomControl?: Record<string, number>;
    failcnt?: number;
  } | null;
}

/** PSI figures of one line of memory.pressure. */
export interface PressureLine {
  avg10: number;
  avg60: number;
  /** Microseconds stalled, in all. */
  total: number;
}

export interface ContainerStatus {
  /** Format version of this file: 2 added `oom` and the memory details. */
  version: 2;
  cid: string;
  name: string | null;
  /** The container's init pid (or the exec'd process), as the runtime reported it. */
  pid: number | null;
  runtime: string;
  /** Exit code; 128 + signal number when killed by a signal. */
  exitCode: number;
  /** Name of the terminating signal ("SIGKILL"), or null for a normal exit. */
  signal: string | null;
  oomKilled: boolean;
  /** OOM kills the kernel counted in the container's cgroup during its life. */
  oomKillCount: number;
  timedOut: boolean;
  /** When `runtime create` had made the container (RFC 3339, ns). */
  startedAt: string;
  /** When ocimon reaped the container's process (RFC 3339, ns). */
  finishedAt: string;
  cgroup: {
    version: 1 | 2;
    /** Path inside the hierarchy. */
    path: string;
    /** Directory on the host. */
    dir: string;
  } | null;
  memory: {
    /** Peak usage in bytes (v2 memory.peak, v1 memory.max_usage_in_bytes), null if unknown. */
    peakBytes: number | null;
    /** Limit in bytes, null if none or unknown. */
    limitBytes: number | null;
    /** v2 memory.high in bytes, null if none or unknown. */
    highBytes: number | null;
    /** Swap peak in bytes (v2 memory.swap.peak, v1 memsw peak), null if unknown. */
    swapPeakBytes: number | null;
    /** Swap limit in bytes (v2 memory.swap.max, v1 memsw limit), null if none or unknown. */
    swapLimitBytes: number | null;
    /** v2 memory.pressure (PSI), null where the kernel has none. */
    pressure: { some: PressureLine; full: PressureLine | null } | null;
  };
  oom: OomStatus;
}

export function writeStatusFile(path: string, status: ContainerStatus): void {
  writeFileAtomic(path, JSON.stringify(status, null, 2) + "\n");
}

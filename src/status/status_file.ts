/**
 * The JSON status file (`--status-file`): everything an operator or a test
 * wants to know about how the container ended, in one atomic write.
 *
 * @module
 */
import { writeFileAtomic } from "./atomic_write.ts";

export interface ContainerStatus {
  /** Format version of this file. */
  version: 1;
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
  };
}

export function writeStatusFile(path: string, status: ContainerStatus): void {
  writeFileAtomic(path, JSON.stringify(status, null, 2) + "\n");
}

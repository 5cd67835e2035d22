/**
 * What the faults tests share. The monitor is OCIMON_BIN (the faults-conmon
 * lane sets /usr/bin/conmon, the control). Where conmon lacks a behaviour,
 * the test says so in its name and asserts conmon's known failure, so that
 * the lane still shows the fault is real.
 *
 * @module
 */
import { IS_CONMON } from "./env.ts";
import type { MonitorOptions } from "./harness.ts";

/** launchMonitor() options for OCIMON_BIN, plus the test's own (drops are merged). */
export function withMonitor(opts: MonitorOptions): MonitorOptions {
  const drop = [...(opts.drop ?? []), ...(IS_CONMON ? ["--status-file"] : [])];
  return { ...opts, drop };
}

/** Resident memory of a process in KiB. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Processes in a container's cgroup (cgroupsPath as in config.json), v1 or v2. */
export function cgroupProcs(cgroupsPath: string): number[] {
  for (const root of ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"]) {
    try {
      return Deno.readTextFileSync(`${root}${cgroupsPath}/cgroup.procs`).split("\n")
        .filter(Boolean).map(Number);
    } catch { /* next */ }
  }
  return [];
}

/** Kills every process in a container's cgroup. */
export function killCgroup(cgroupsPath: string): void {
  for (const pid of cgroupProcs(cgroupsPath)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
}

/**
 * A memory cgroup for the monitor itself, as CRI-O's `conmon_cgroup = "pod"`
 * gives it: the launcher joins it before it runs, so the monitor, the runtime
 * it spawns (`runc create`) and everything they allocate are charged to it
 * (the container has a cgroup of its own). Used by the faults lane and the
 * bench: peak memory (cgroup v1 memory.max_usage_in_bytes, v2 memory.peak)
 * and, with a limit, what happens when the monitor does not fit.
 *
 * @module
 */
import { join } from "node:path";
import { memoryCgroupVersion, tempDir } from "./env.ts";
import { sleep } from "./harness.ts";

export class MonitorCgroup {
  readonly version = memoryCgroupVersion();
  readonly dir: string;
  /** An executable that joins this cgroup, then runs the monitor given as $0's target. */
  readonly #scripts: string;

  constructor(name: string, limitBytes?: number) {
    const root = this.version === 1 ? "/sys/fs/cgroup/memory" : "/sys/fs/cgroup";
    this.dir = join(root, `ocimon-monitor-${name}-${Deno.pid}`);
    Deno.mkdirSync(this.dir, { recursive: true });
    if (limitBytes !== undefined) {
      if (this.version === 1) {
        Deno.writeTextFileSync(join(this.dir, "memory.limit_in_bytes"), String(limitBytes));
      } else {
        Deno.writeTextFileSync(join(this.dir, "memory.max"), String(limitBytes));
        try {
          Deno.writeTextFileSync(join(this.dir, "memory.swap.max"), "0");
        } catch { /* no swap accounting */ }
      }
    }
    this.#scripts = tempDir("mcg");
  }

  /** A launcher for `bin` that first moves itself into this cgroup. */
  wrap(bin: string): string {
    const path = join(this.#scripts, `in-cgroup-${bin.split("/").pop()}`);
    Deno.writeTextFileSync(
      path,
      `#!/bin/sh\necho $$ > ${join(this.dir, "cgroup.procs")} || exit 99\nexec ${bin} "$@"\n`,
    );
    Deno.chmodSync(path, 0o755);
    return path;
  }

  /** The most memory the cgroup has held, in bytes. */
  peak(): number {
    const file = this.version === 1 ? "memory.max_usage_in_bytes" : "memory.peak";
    return Number(Deno.readTextFileSync(join(this.dir, file)).trim());
  }

  /** OOM kills inside this cgroup so far. */
  oomKills(): number {
    const file = this.version === 1 ? "memory.oom_control" : "memory.events";
    const m = /oom_kill (\d+)/.exec(Deno.readTextFileSync(join(this.dir, file)));
    return m ? Number(m[1]) : 0;
  }

  procs(): number[] {
    return Deno.readTextFileSync(join(this.dir, "cgroup.procs")).split("\n").filter(Boolean)
      .map(Number);
  }

  /** Kills whatever is left in it and removes it. */
  async remove(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const procs = this.procs();
      if (procs.length === 0) break;
      for (const p of procs) {
        try {
          Deno.kill(p, "SIGKILL");
        } catch { /* gone */ }
      }
      await sleep(20);
    }
    try {
      Deno.removeSync(this.dir);
    } catch { /* still busy: left for the machine */ }
    Deno.removeSync(this.#scripts, { recursive: true });
  }
}

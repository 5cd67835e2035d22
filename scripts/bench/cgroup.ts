/**
 * The memory of the monitor's own cgroup (CRI-O's conmon_cgroup), peak
 * through create and a short life that logs: the monitor and the runtime it
 * runs are charged there. cgroup v1 memory.max_usage_in_bytes, v2
 * memory.peak. The peak counts the log's page cache too, which a limit
 * reclaims first. Once per runtime installed (runc, crun).
 *
 * @module
 */
import { memoryCgroupVersion } from "../../tests/support/env.ts";
import { isAlive, launchMonitor, run, sleep } from "../../tests/support/harness.ts";
import { MonitorCgroup } from "../../tests/support/monitor_cgroup.ts";
import { MIN_MONITOR_CGROUP_MIB } from "../../src/cgroup/monitor_limit.ts";
import { which } from "../../src/util/which.ts";
import { alternate } from "./alternate.ts";
import { addRow, type Bench, monitorArgs } from "./context.ts";

export async function cgroupPeak(b: Bench) {
  const n = b.quick ? 3 : 8;
  const script = "seq 1 20000; sleep 0.3; exit 0";
  for (const runtime of ["runc", "crun"]) {
    const path = which(runtime, Deno.env.get("PATH") ?? "");
    if (!path) continue;
    let unsupported = "";
    const peaks = await alternate(n, async (m) => {
      if (unsupported) return undefined;
      const cg = new MonitorCgroup("bench");
      const o = monitorArgs(m.name);
      const c = await launchMonitor({
        name: "cgpeak",
        base: b.work,
        args: ["sh", "-c", script],
        bin: cg.wrap(m.bin),
        drop: [...(o.drop ?? []), "--runtime"],
        extra: [...o.extra, "--runtime", path],
      });
      try {
        const msg = await c.sync.next();
        if (!msg || Number(msg.data) <= 0) {
          unsupported = String(msg?.message ?? "no pid").trim();
          return undefined;
        }
        await run([path, "start", c.cid]);
        await c.exitCode();
        const monitor = c.monitorPid();
        while (isAlive(monitor)) await sleep(10);
        return cg.peak() / 1048576;
      } finally {
        await run([path, "delete", "--force", c.cid]);
        await c.cleanup();
        await cg.remove();
      }
    });
    if (unsupported) {
      b.rows.push({
        section: "monitor cgroup",
        what: `${runtime}: not on this host (${unsupported.slice(0, 40)}…)`,
        unit: "",
      });
      continue;
    }
    addRow(
      b,
      "monitor cgroup",
      `peak, create + a life that logs (${runtime}, cgroup v${memoryCgroupVersion()})`,
      "MiB",
      peaks,
      `ocimon accepts ≥ ${MIN_MONITOR_CGROUP_MIB}`,
    );
  }
}

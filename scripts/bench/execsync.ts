/**
 * CRI-O's ExecSync (exec probes): one monitor process with --sync, run as
 * tests/support/crio.ts runs it, into a running container; and the floor
 * one bare monitor start puts under ocimon's figure.
 *
 * @module
 */
import { RUNTIME } from "../../tests/support/env.ts";
import { type Container, Crio, probeMonitor } from "../../tests/support/crio.ts";
import { alternate, type MonitorName, MONITORS } from "./alternate.ts";
import { addRow, type Bench, figure, versionAndBareRows } from "./context.ts";
import { median } from "./report.ts";

export async function execSync(b: Bench) {
  const n = b.quick ? 6 : 20;
  const crios = new Map<MonitorName, Crio>();
  const ctrs = new Map<MonitorName, Container>();
  try {
    for (const m of MONITORS) {
      const crio = new Crio(await probeMonitor(m.bin), false, RUNTIME, m.bin);
      crios.set(m.name, crio);
      const c = await crio.createContainer({ args: ["sleep", "600"] });
      await c.start();
      ctrs.set(m.name, c);
    }
    const exec = await alternate(n, async (m) => {
      const t0 = performance.now();
      const r = await crios.get(m.name)!.execSync(ctrs.get(m.name)!, ["true"]);
      return r.exitCode === 0 ? performance.now() - t0 : undefined;
    });
    addRow(b, "execsync (CRI-O)", "ExecSync of /bin/true", "ms", exec, "≤ conmon + bare + 10 ms");
    // A bare Deno start (a no-op script, bin/ocimon's flags), taken in the same alternation.
    const { bare } = await versionAndBareRows(b, "execsync (CRI-O)", n);
    // ExecSync starts one monitor process (--sync): one bare Deno start is the floor
    // (issue 20's target: at most 10 ms above it).
    const floor = median(exec.conmon) + median(bare);
    b.rows.push({
      section: "execsync (CRI-O)",
      what: "floor: conmon's ExecSync + 1 bare Deno start",
      unit: "ms",
      ocimon: { median: floor, p10: floor, p90: floor, n: 1 },
      conmon: figure(exec.conmon),
    });
  } finally {
    for (const [name, c] of ctrs) {
      await c.remove();
      await crios.get(name)!.close();
    }
    for (const [name, crio] of crios) if (!ctrs.has(name)) await crio.close();
  }
}

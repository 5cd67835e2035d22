/**
 * Scale: many containers started at once, each monitor in turn: how long
 * until all run, and the monitors' total PSS.
 *
 * @module
 */
import { alternate, pick } from "./alternate.ts";
import { addRow, type Bench, runOne } from "./context.ts";
import { processMemory } from "./proc.ts";

export async function scale(b: Bench) {
  const count = b.quick ? 10 : 50;
  // One round: each monitor's `count` containers are started together.
  const runs = await alternate(1, async (m) => {
    const t0 = performance.now();
    const cs = await Promise.all(Array.from({ length: count }, async () => {
      const c = await runOne(b, m, "scale", ["sleep", "600"]);
      await c.sync.next();
      await c.start();
      return c;
    }));
    const allRunning = (performance.now() - t0) / 1000;
    const totalPss = cs.reduce((a, c) => a + processMemory(c.monitorPid()).pss, 0) / 1024;
    for (const c of cs) await c.cleanup();
    return { allRunning, totalPss };
  });
  addRow(
    b,
    "scale",
    `${count} containers started at once: all running`,
    "s",
    pick(runs, (r) => r.allRunning),
  );
  addRow(b, "scale", "total monitor PSS", "MiB", pick(runs, (r) => r.totalPss));
}

/**
 * The memory of idle monitors: RSS, PSS and private dirty memory, each
 * monitor with a number of sleeping containers at once.
 *
 * @module
 */
import { type MonitoredContainer, sleep } from "../../tests/support/harness.ts";
import { alternate, pick } from "./alternate.ts";
import { addRow, type Bench, runOne } from "./context.ts";
import { processMemory } from "./proc.ts";

export async function memory(b: Bench) {
  const count = b.quick ? 5 : 20;
  // One round: each monitor's `count` containers are up together.
  const runs = await alternate(1, async (m) => {
    const running: MonitoredContainer[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const c = await runOne(b, m, "idle", ["sleep", "600"]);
        await c.sync.next();
        await c.start();
        running.push(c);
      }
      await sleep(1000); // let start-up garbage settle
      return running.map((c) => processMemory(c.monitorPid()));
    } finally {
      for (const c of running) await c.cleanup();
    }
  });
  const monitors = { ocimon: runs.ocimon.flat(), conmon: runs.conmon.flat() };
  const mib = (f: "rss" | "pss" | "privateDirty") => pick(monitors, (x) => x[f] / 1024);
  addRow(b, "memory (idle monitor)", `RSS, ${count} monitors`, "MiB", mib("rss"));
  addRow(b, "memory (idle monitor)", "PSS", "MiB", mib("pss"));
  addRow(b, "memory (idle monitor)", "private dirty", "MiB", mib("privateDirty"), "≤ 12 MiB");
}

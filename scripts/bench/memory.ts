/**
 * The memory of idle monitors: RSS, PSS and private dirty memory, each
 * monitor with a number of sleeping containers at once.
 *
 * @module
 */
import { type MonitoredContainer, sleep } from "../../tests/support/harness.ts";
import { alternate, pick } from "./alternate.ts";
import { addRow, bareIdle, type Bench, figure, runOne } from "./context.ts";
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
  // The floor: as many bare Deno processes (bin/ocimon's flags, idling on a timer), up together.
  const bare = await bareIdle(b, count);
  let floor: ReturnType<typeof processMemory>[];
  try {
    await sleep(1000); // settled, as the monitors were
    floor = bare.map((p) => {
      try {
        return processMemory(p.pid);
      } catch { // ended and reaped already
        return { rss: NaN, pss: NaN, privateDirty: NaN };
      }
    });
  } finally {
    for (const p of bare) {
      try {
        p.kill("SIGKILL");
      } catch { /* it ended by itself: its figures are NaN and left out below */ }
      await p.status;
    }
  }
  const monitors = { ocimon: runs.ocimon.flat(), conmon: runs.conmon.flat() };
  const mib = (f: "rss" | "pss" | "privateDirty") => pick(monitors, (x) => x[f] / 1024);
  const floorMib = (f: "rss" | "pss" | "privateDirty") =>
    figure(floor.map((x) => x[f] / 1024).filter((x) => !Number.isNaN(x)));
  addRow(b, "memory (idle monitor)", `RSS, ${count} monitors`, "MiB", mib("rss"));
  addRow(b, "memory (idle monitor)", "PSS", "MiB", mib("pss"));
  addRow(b, "memory (idle monitor)", "private dirty", "MiB", mib("privateDirty"), "≤ bare + 1 MiB");
  for (
    const [f, what] of [["rss", "RSS"], ["pss", "PSS"], ["privateDirty", "private dirty"]] as const
  ) {
    b.rows.push({
      section: "memory (idle monitor)",
      what: `${what}, bare Deno process idling on a timer (${count} at once)`,
      unit: "MiB",
      ocimon: floorMib(f),
    });
  }
}

/**
 * Starts at scale (issue 20's target 5): `count` containers created at once,
 * each monitor in turn, driven as CRI-O and podman drive their monitor: the
 * time until every pid is on its sync pipe and until all run (`runtime
 * start` done), and the monitors' total PSS; then `podman run -d` × `count`
 * in parallel, until every one has returned.
 *
 * The floor under a Deno monitor is the same load of bare Deno starts (a
 * no-op script with bin/ocimon's flags) on top of conmon's time: `count`
 * chains of two (launcher, monitor) started at once, or of three under
 * podman (which also runs `MONITOR --version` for every command), timed in
 * the same run.
 *
 * @module
 */
import { alternate, pick } from "./alternate.ts";
import { addRow, bareStart, type Bench, figure, runOne } from "./context.ts";
import { processMemory } from "./proc.ts";
import type { MonitoredContainer } from "../../tests/support/harness.ts";
import { median } from "./report.ts";
import { benchPodman } from "./podman_cmd.ts";

export async function scale(b: Bench) {
  const count = b.quick ? 10 : 50;
  const section = "scale";
  // One round: each monitor's `count` containers are started together.
  const runs = await alternate(1, async (m) => {
    const t0 = performance.now();
    let synced = 0;
    const launched: MonitoredContainer[] = [];
    try {
      await Promise.all(Array.from({ length: count }, async () => {
        const c = await runOne(b, m, "scale", ["sleep", "600"]);
        launched.push(c);
        await c.sync.next();
        synced = Math.max(synced, performance.now() - t0);
        await c.start();
      }));
      const allRunning = (performance.now() - t0) / 1000;
      const totalPss = launched.reduce((a, c) => a + processMemory(c.monitorPid()).pss, 0) / 1024;
      return { synced: synced / 1000, allRunning, totalPss };
    } finally {
      // Every container launched goes, the run failed part-way or not.
      for (const c of launched) await c.cleanup();
    }
  });
  const direct = `${count} created at once`;
  const synced = pick(runs, (r) => r.synced);
  const running = pick(runs, (r) => r.allRunning);
  addRow(b, section, `${direct}: every pid on its sync pipe`, "s", synced, "≤ floor × 1.2");
  floorRow(b, section, synced.conmon, await bareChains(b, count, 2), 2);
  addRow(b, section, `${direct}: all running`, "s", running, "≤ floor × 1.2");
  floorRow(b, section, running.conmon, await bareChains(b, count, 2), 2);
  addRow(b, section, "total monitor PSS", "MiB", pick(runs, (r) => r.totalPss));

  const podman = benchPodman(b);
  const viaPodman = await alternate(1, async (m) => {
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: count }, () =>
      podman(m.bin, [
        "run",
        "-d",
        "--network",
        "none",
        "--rootfs",
        b.rootfs,
        "sleep",
        "600",
      ])));
    const secs = (performance.now() - t0) / 1000;
    const failed = results.filter((r) => r.code !== 0);
    await podman(m.bin, ["rm", "-f", "-a", "-t", "0"]);
    if (failed.length > 0) {
      const why = new TextDecoder().decode(failed[0].stderr).trim();
      console.error(`${m.name}: ${failed.length} of ${count} podman run -d failed: ${why}`);
      return undefined;
    }
    return secs;
  });
  addRow(
    b,
    section,
    `podman run -d × ${count} in parallel: all returned (running)`,
    "s",
    viaPodman,
    "≤ floor × 1.2",
  );
  floorRow(b, section, viaPodman.conmon, await bareChains(b, count, 3), 3);
}

/** The floor row: conmon's median plus `chains` of `perChain` bare Deno starts, started at once. */
function floorRow(b: Bench, section: string, conmon: number[], chains: number, perChain: number) {
  const floor = median(conmon) + chains;
  b.rows.push({
    section,
    what: `  floor: conmon's + ${perChain} bare Deno starts per container, all at once (${
      chains.toFixed(2)
    } s)`,
    unit: "s",
    ocimon: { median: floor, p10: floor, p90: floor, n: 1 },
    conmon: figure(conmon),
  });
}

/** Seconds for `count` chains of `perChain` bare Deno starts each, all chains at once. */
async function bareChains(b: Bench, count: number, perChain: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: count }, async () => {
    for (let i = 0; i < perChain; i++) {
      if (await bareStart(b) === undefined) throw new Error("a bare Deno start failed");
    }
  }));
  return (performance.now() - t0) / 1000;
}

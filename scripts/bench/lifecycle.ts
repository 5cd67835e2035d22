/**
 * Start-to-running and the full lifecycle, the monitor driven directly (no
 * podman): the launcher's exit, the pid on the sync pipe, and create →
 * start → exit file of /bin/true.
 *
 * @module
 */
import { alternate, type PerMonitor } from "./alternate.ts";
import { addRow, type Bench, runOne } from "./context.ts";

export async function lifecycle(b: Bench) {
  const n = b.quick ? 4 : 12;
  const launcher: PerMonitor<number[]> = { ocimon: [], conmon: [] };
  const toPid: PerMonitor<number[]> = { ocimon: [], conmon: [] };
  const total = await alternate(n, async (m) => {
    const t0 = performance.now();
    const c = await runOne(b, m, "life", ["true"], { noWait: true });
    await c.waitLauncher();
    launcher[m.name].push(performance.now() - t0);
    await c.sync.next();
    toPid[m.name].push(performance.now() - t0);
    await c.start();
    await c.exitCode();
    const t = performance.now() - t0;
    await c.cleanup();
    return t;
  });
  addRow(b, "lifecycle (direct)", "launcher exits", "ms", launcher);
  addRow(b, "lifecycle (direct)", "pid on the sync pipe", "ms", toPid);
  addRow(b, "lifecycle (direct)", "create → start → exit file, /bin/true", "ms", total);
}

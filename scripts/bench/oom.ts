/**
 * The OOM verdict: how long from the container's death to the exit file,
 * and whether the verdict was right (exit 137 and the oom file), for a
 * container killed by the kernel under a 16 MiB limit.
 *
 * @module
 */
import { join } from "node:path";
import { OOM_ARGS } from "../../tests/support/bundle.ts";
import { readIfExists } from "../../tests/support/harness.ts";
import { alternate, type PerMonitor } from "./alternate.ts";
import { addRow, type Bench, runOne } from "./context.ts";

export async function oom(b: Bench) {
  const n = b.quick ? 6 : 50;
  const correct: PerMonitor<number> = { ocimon: 0, conmon: 0 };
  const latency = await alternate(n, async (m) => {
    const c = await runOne(b, m, "oom", OOM_ARGS, { memoryLimit: 16 << 20 });
    try {
      const pid = (await c.sync.next())?.data as number;
      await c.start();
      // Death: the container's init turns zombie (or is reaped) — polled every ms.
      const died = await pollFast(() => dead(pid), "death");
      const exit = join(c.exitDir, c.cid);
      const done = await pollFast(() => readIfExists(exit) !== undefined, "exit file");
      const oomFile = readIfExists(join(c.bundle, "oom")) !== undefined;
      if (readIfExists(exit) === "137" && oomFile) correct[m.name]++;
      return done - died;
    } finally {
      await c.cleanup();
    }
  });
  addRow(b, "OOM verdict", `death → exit file, ${n} kills each`, "ms", latency, "≤ 50 ms");
  b.rows.push({
    section: "OOM verdict",
    what: "correct verdicts (exit 137 and oom file)",
    unit: "of runs",
    ocimon: {
      median: correct.ocimon,
      p10: correct.ocimon,
      p90: correct.ocimon,
      n: latency.ocimon.length,
    },
    conmon: {
      median: correct.conmon,
      p10: correct.conmon,
      p90: correct.conmon,
      n: latency.conmon.length,
    },
    target: "all",
  });
}

/** Polls about every millisecond (the harness's 10 ms is too coarse here); returns when `cond` held. */
async function pollFast(cond: () => boolean, what: string): Promise<number> {
  const deadline = performance.now() + 30_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
  return performance.now();
}

function dead(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat[stat.lastIndexOf(")") + 2] === "Z";
  } catch {
    return true;
  }
}

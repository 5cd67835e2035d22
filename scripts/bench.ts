/**
 * ocimon and conmon side by side, in one run: every figure alternates the
 * two monitors (A B A B …, scripts/bench/alternate.ts) and reports median,
 * spread (p10–p90) and the ratio ocimon/conmon. Nothing here asserts on
 * time; the figures are printed as a table and written as JSON for
 * comparing runs. Each section is a module of scripts/bench/.
 *
 *   deno task bench [--quick] [--out FILE]
 *                   [--only lifecycle,podman,execsync,memory,oom,logs,journald,scale,cgroup]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { ensureRootfs } from "../tests/support/bundle.ts";
import type { Bench } from "./bench/context.ts";
import { printTable } from "./bench/report.ts";
import { lifecycle } from "./bench/lifecycle.ts";
import { podman } from "./bench/podman.ts";
import { execSync } from "./bench/execsync.ts";
import { memory } from "./bench/memory.ts";
import { oom } from "./bench/oom.ts";
import { logs } from "./bench/logs.ts";
import { journald } from "./bench/journald.ts";
import { scale } from "./bench/scale.ts";
import { cgroupPeak } from "./bench/cgroup.ts";

/** The sections, by their --only names, in the order they run. */
const SECTIONS: Record<string, (b: Bench) => Promise<void>> = {
  lifecycle,
  podman,
  execsync: execSync,
  memory,
  oom,
  logs,
  journald,
  scale,
  cgroup: cgroupPeak,
};

async function main(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      out: { type: "string" },
    },
  });
  const only = values.only ? values.only.split(",") : undefined;
  const work = Deno.makeTempDirSync({ dir: "/tmp", prefix: "ocb" });
  const b: Bench = { quick: values.quick!, work, rootfs: ensureRootfs(work), rows: [] };
  try {
    for (const [name, fn] of Object.entries(SECTIONS)) {
      if (only && !only.includes(name)) continue;
      console.error(`bench: ${name}…`);
      try {
        await fn(b);
      } catch (err) {
        console.error(`bench: ${name} failed: ${err instanceof Error ? err.stack : err}`);
        b.rows.push({
          section: name,
          what: `FAILED: ${err instanceof Error ? err.message : err}`,
          unit: "",
        });
      }
    }
  } finally {
    try {
      Deno.removeSync(work, { recursive: true });
    } catch { /* podman storage may need its own cleanup */ }
  }

  printTable(b.rows);
  const out = values.out ??
    `/tmp/ocimon-bench/bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  Deno.mkdirSync(join(out, ".."), { recursive: true });
  Deno.writeTextFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          cores: navigator.hardwareConcurrency,
          kernel: Deno.osRelease(),
          deno: Deno.version.deno,
        },
        quick: b.quick,
        rows: b.rows,
      },
      null,
      2,
    ),
  );
  console.log(`\nfigures written to ${out}`);
}

if (import.meta.main) await main(Deno.args);

/**
 * What every bench section is handed, and what they share: the run's
 * directory and rootfs, the rows of the table, and the monitor launched the
 * way the sections launch it.
 *
 * @module
 */
import { join } from "node:path";
import { launchMonitor, type MonitoredContainer } from "../../tests/support/harness.ts";
import { REPO } from "../../tests/support/env.ts";
import { alternate, type Monitor, type MonitorName, type PerMonitor } from "./alternate.ts";
import { type Figure, median, percentile, type Row } from "./report.ts";
import { processCpuSeconds } from "./proc.ts";

export interface Bench {
  /** --quick: fewer rounds and smaller loads, for a smoke run. */
  quick: boolean;
  /** The run's directory (bundles, data files, podman's storage), with the shared rootfs. */
  work: string;
  rootfs: string;
  /** The table, in the order the figures were taken. */
  rows: Row[];
}

export function figure(samples: number[]): Figure {
  return {
    median: median(samples),
    p10: percentile(samples, 10),
    p90: percentile(samples, 90),
    n: samples.length,
  };
}

/** One row of figures, ocimon's and conmon's samples side by side. */
export function addRow(
  b: Bench,
  section: string,
  what: string,
  unit: string,
  s: PerMonitor<number[]>,
  target?: string,
) {
  b.rows.push({ section, what, unit, ocimon: figure(s.ocimon), conmon: figure(s.conmon), target });
}

/** conmon has no --status-file; everything else is the argv podman uses. */
export function monitorArgs(m: MonitorName) {
  return m === "conmon"
    ? { drop: ["--status-file"], extra: ["--full-attach"] }
    : { extra: ["--full-attach"] };
}

/** Launches monitor `m` on a container in the run's directory. */
export async function runOne(
  b: Bench,
  m: Monitor,
  name: string,
  args: string[],
  extraOpts: Record<string, unknown> = {},
): Promise<MonitoredContainer> {
  const o = monitorArgs(m.name);
  return await launchMonitor({ name, base: b.work, args, bin: m.bin, ...o, ...extraOpts });
}

/** `MONITOR --version`, timed: a bare start of the monitor's process (undefined if it failed). */
export async function versionRun(m: Monitor): Promise<number | undefined> {
  const t0 = performance.now();
  const r = await new Deno.Command(m.bin, { args: ["--version"], stdout: "null" }).output();
  return r.success ? performance.now() - t0 : undefined;
}

/**
 * Starts a created container and waits for its exit file: the seconds that took and the
 * monitor's CPU seconds, sampled every 20 ms (the monitor is gone by the time the exit
 * file is there, so the last sample stands for its total).
 */
export async function startToExit(c: MonitoredContainer) {
  const mon = c.monitorPid();
  let cpu = 0;
  const sampler = setInterval(() => (cpu = processCpuSeconds(mon) ?? cpu), 20);
  try {
    const t0 = performance.now();
    await c.start();
    await c.exitCode(600_000);
    return { secs: (performance.now() - t0) / 1000, cpu };
  } finally {
    clearInterval(sampler);
  }
}

/** Bind-mounts `source` read-only at `dest` in the bundle's container. */
export function addBindMount(bundle: string, source: string, dest: string) {
  const cfg = JSON.parse(Deno.readTextFileSync(join(bundle, "config.json")));
  cfg.mounts.push({ destination: dest, type: "bind", source, options: ["rbind", "ro"] });
  Deno.writeTextFileSync(join(bundle, "config.json"), JSON.stringify(cfg));
}

/**
 * The flags bin/ocimon runs Deno with (`--v8-flags=…` and the rest), read from the script
 * itself so that the floor follows them; read once, not inside each timed start.
 */
let denoFlags: string[] | undefined;
export function ocimonDenoFlags(): string[] {
  return denoFlags ??= readDenoFlags();
}

function readDenoFlags(): string[] {
  const script = Deno.readTextFileSync(join(REPO, "bin/ocimon"));
  const exec = script.slice(
    script.indexOf('exec "${DENO:-deno}" run'),
    script.indexOf("src/main.ts"),
  );
  return exec.replace(/\\\n/g, " ").split(/\s+/).filter((w) => w.startsWith("--"));
}

/** A script of `body` in the run's directory, for a bare Deno process to run. */
function bareScript(b: Bench, name: string, body: string): string {
  const path = join(b.work, name);
  Deno.writeTextFileSync(path, body);
  return path;
}

/**
 * A bare Deno start, timed: a no-op script run with bin/ocimon's flags (the floor under any
 * Deno monitor's start; undefined if it failed).
 */
export async function bareStart(b: Bench): Promise<number | undefined> {
  const script = bareScript(b, "noop.js", "\n");
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...ocimonDenoFlags(), script],
    stdout: "null",
  }).output();
  return r.success ? performance.now() - t0 : undefined;
}

/**
 * `MONITOR --version` for each monitor, `runs` times alternating, and a bare Deno start taken
 * in the same alternation beside each ocimon run: both rows added to `section`. Gives the bare
 * starts and the --version times (ms), from which the section's floor is made.
 */
export async function versionAndBareRows(
  b: Bench,
  section: string,
  runs: number,
): Promise<{ bare: number[]; version: PerMonitor<number[]> }> {
  const bare: number[] = [];
  const version = await alternate(runs, async (m) => {
    if (m.name === "ocimon") {
      const t = await bareStart(b);
      if (t !== undefined) bare.push(t);
    }
    return await versionRun(m);
  });
  addRow(b, section, "MONITOR --version", "ms", version);
  const what = "bare Deno start (no-op script, bin/ocimon's flags)";
  b.rows.push({ section, what, unit: "ms", ocimon: figure(bare) });
  return { bare, version };
}

/**
 * `count` bare Deno processes with bin/ocimon's flags idling on a timer: the floor under an idle
 * monitor. The script is written once, before any of them reads it; each says "up" once its
 * timer is set, and this resolves when all have (as the monitors, they are measured after that).
 */
export async function bareIdle(b: Bench, count: number): Promise<Deno.ChildProcess[]> {
  const script = bareScript(b, "idle.js", 'setInterval(() => {}, 1000);\nconsole.log("up");\n');
  const procs = Array.from({ length: count }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", ...ocimonDenoFlags(), script],
      stdout: "piped",
      stderr: "null",
    }).spawn());
  await Promise.all(procs.map(async (p) => {
    const reader = p.stdout.getReader();
    await reader.read(); // "up", or the end if it failed
    reader.releaseLock();
    await p.stdout.cancel();
  }));
  return procs;
}

/**
 * ocimon and conmon side by side, in one run: every figure alternates the
 * two monitors (A B A B …) and reports median, spread (p10–p90) and the
 * ratio ocimon/conmon. Nothing here asserts on time; the figures are
 * printed as a table and written as JSON for comparing runs.
 *
 *   deno task bench [--quick] [--out FILE]
 *                   [--only lifecycle,podman,execsync,memory,oom,logs,journald,scale,cgroup]
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { ensureRootfs, makeBundle, OOM_ARGS } from "../tests/support/bundle.ts";
import {
  exists,
  isAlive,
  launchMonitor,
  type MonitoredContainer,
  readIfExists,
  run,
  sleep,
} from "../tests/support/harness.ts";
import { memoryCgroupVersion, OCIMON_BIN, RUNTIME } from "../tests/support/env.ts";
import { MonitorCgroup } from "../tests/support/monitor_cgroup.ts";
import { MIN_MONITOR_CGROUP_MIB } from "../src/cgroup/monitor_limit.ts";
import { which } from "../src/util/which.ts";
import { Crio, probeMonitor } from "../tests/crio/driver.ts";
import { type Figure, median, percentile, printTable, type Row } from "./bench/report.ts";
import { processCpuSeconds, processMemory } from "./bench/proc.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string" },
  },
});
const QUICK = values.quick!;
const ONLY = values.only ? values.only.split(",") : undefined;
const CONMON = "/usr/bin/conmon";
const MONITORS = [{ name: "ocimon", bin: OCIMON_BIN }, { name: "conmon", bin: CONMON }] as const;
type MonitorName = typeof MONITORS[number]["name"];

const work = Deno.makeTempDirSync({ dir: "/tmp", prefix: "ocb" });
const rootfs = ensureRootfs(work);
const rows: Row[] = [];

/** conmon has no --status-file; everything else is the argv podman uses. */
function monitorArgs(m: MonitorName) {
  return m === "conmon"
    ? { drop: ["--status-file"], extra: ["--full-attach"] }
    : { extra: ["--full-attach"] };
}

async function runOne(
  m: typeof MONITORS[number],
  name: string,
  args: string[],
  extraOpts: Record<string, unknown> = {},
): Promise<MonitoredContainer> {
  const o = monitorArgs(m.name);
  return await launchMonitor({ name, base: work, args, bin: m.bin, ...o, ...extraOpts });
}

/** Runs `fn` for each monitor in turn, `n` rounds, collecting one sample per call. */
async function alternate(
  n: number,
  fn: (m: typeof MONITORS[number], i: number) => Promise<number | undefined>,
) {
  const samples: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  for (let i = 0; i < n; i++) {
    for (const m of i % 2 ? [...MONITORS].reverse() : MONITORS) {
      const v = await fn(m, i);
      if (v !== undefined) samples[m.name].push(v);
    }
  }
  return samples;
}

function figure(samples: number[]): Figure {
  return {
    median: median(samples),
    p10: percentile(samples, 10),
    p90: percentile(samples, 90),
    n: samples.length,
  };
}

function addRow(
  section: string,
  what: string,
  unit: string,
  s: Record<MonitorName, number[]>,
  target?: string,
) {
  rows.push({ section, what, unit, ocimon: figure(s.ocimon), conmon: figure(s.conmon), target });
}

// 1. Start-to-running and full lifecycle, driven directly (no podman).
async function lifecycle() {
  const n = QUICK ? 4 : 12;
  const launcher: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  const toPid: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  const total = await alternate(n, async (m) => {
    const t0 = performance.now();
    const c = await runOne(m, "life", ["true"], { noWait: true });
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
  addRow("lifecycle (direct)", "launcher exits", "ms", launcher);
  addRow("lifecycle (direct)", "pid on the sync pipe", "ms", toPid);
  addRow("lifecycle (direct)", "create → start → exit file, /bin/true", "ms", total);
}

// 1b. The same through podman.
async function podmanLifecycle() {
  const n = QUICK ? 4 : 10;
  const conf = join(work, "containers.conf");
  Deno.writeTextFileSync(
    conf,
    `[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n` +
      `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "${
        RUNTIME.split("/").pop()
      }"\n` +
      `[network]\nnetwork_config_dir = "${join(work, "net")}"\n`,
  );
  const podman = (m: string, args: string[]) =>
    new Deno.Command("podman", {
      args: [
        "--root",
        join(work, "pr"),
        "--runroot",
        join(work, "rr"),
        "--storage-driver",
        "vfs",
        "--conmon",
        m,
        ...args,
      ],
      env: { CONTAINERS_CONF: conf },
      stdout: "null",
      stderr: "piped",
    }).output();
  const run = await alternate(n, async (m) => {
    const t0 = performance.now();
    const r = await podman(m.bin, [
      "run",
      "--rm",
      "--network",
      "none",
      "--rootfs",
      rootfs,
      "/bin/true",
    ]);
    if (r.code !== 0) {
      console.error(`${m.name}: podman run failed: ${new TextDecoder().decode(r.stderr)}`);
      return undefined;
    }
    return performance.now() - t0;
  });
  addRow("lifecycle (podman)", "podman run --rm /bin/true", "ms", run, "≤ 1.15× conmon");

  // podman runs `MONITOR --version` for every command. For ocimon that is a
  // Deno start and nothing more: the cost of one ocimon process.
  const version = await alternate(n * 2, async (m) => {
    const t0 = performance.now();
    const r = await new Deno.Command(m.bin, { args: ["--version"], stdout: "null" }).output();
    return r.success ? performance.now() - t0 : undefined;
  });
  addRow("lifecycle (podman)", "MONITOR --version (a bare process start)", "ms", version);

  // What no ocimon code can go below: a `podman run` starts three ocimon
  // processes (--version, launcher, monitor) where it starts three conmon.
  const startGap = median(version.ocimon) - median(version.conmon);
  const conmonRun = median(run.conmon);
  const floor = conmonRun + 3 * startGap;
  rows.push({
    section: "lifecycle (podman)",
    what: "floor: conmon's run + 3 × the --version gap",
    unit: "ms",
    ocimon: { median: floor, p10: floor, p90: floor, n: 1 },
    conmon: figure(run.conmon),
  });
}

// 1c. CRI-O's ExecSync (exec probes): one monitor process with --sync, run
// as tests/crio/driver.ts runs it, into a running container.
async function execSync() {
  const n = QUICK ? 6 : 20;
  const crios = new Map<MonitorName, Crio>();
  const ctrs = new Map<MonitorName, Awaited<ReturnType<Crio["createContainer"]>>>();
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
    addRow("execsync (CRI-O)", "ExecSync of /bin/true", "ms", exec, "≤ 2× conmon");
    const version = await alternate(n, async (m) => {
      const t0 = performance.now();
      const r = await new Deno.Command(m.bin, { args: ["--version"], stdout: "null" }).output();
      return r.success ? performance.now() - t0 : undefined;
    });
    addRow("execsync (CRI-O)", "MONITOR --version (a bare process start)", "ms", version);
    // ExecSync starts one monitor process (--sync): one start gap is the floor.
    const floor = median(exec.conmon) + median(version.ocimon) - median(version.conmon);
    rows.push({
      section: "execsync (CRI-O)",
      what: "floor: conmon's ExecSync + 1 × the --version gap",
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

// 2. Memory of idle monitors.
async function memory() {
  const count = QUICK ? 5 : 20;
  const fields = ["rss", "pss", "privateDirty"] as const;
  const samples = Object.fromEntries(
    fields.map((f) => [f, { ocimon: [] as number[], conmon: [] as number[] }]),
  );
  for (const m of MONITORS) {
    const running: MonitoredContainer[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const c = await runOne(m, "idle", ["sleep", "600"]);
        await c.sync.next();
        await c.start();
        running.push(c);
      }
      await sleep(1000); // let start-up garbage settle
      for (const c of running) {
        const mem = processMemory(c.monitorPid());
        for (const f of fields) samples[f][m.name].push(mem[f] / 1024);
      }
    } finally {
      for (const c of running) await c.cleanup();
    }
  }
  addRow("memory (idle monitor)", `RSS, ${count} monitors`, "MiB", samples.rss);
  addRow("memory (idle monitor)", "PSS", "MiB", samples.pss);
  addRow("memory (idle monitor)", "private dirty", "MiB", samples.privateDirty, "≤ 12 MiB");
}

// 3. OOM verdict latency and correctness.
async function oom() {
  const n = QUICK ? 6 : 50;
  const correct: Record<MonitorName, number> = { ocimon: 0, conmon: 0 };
  const latency = await alternate(n, async (m) => {
    const c = await runOne(m, "oom", OOM_ARGS, { memoryLimit: 16 << 20 });
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
  addRow("OOM verdict", `death → exit file, ${n} kills each`, "ms", latency, "≤ 50 ms");
  rows.push({
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

/**
 * Starts a created container and waits for its exit file: the seconds that took and the
 * monitor's CPU seconds, sampled every 20 ms (the monitor is gone by the time the exit
 * file is there, so the last sample stands for its total).
 */
async function startToExit(c: Awaited<ReturnType<typeof runOne>>) {
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

// 4. Log throughput.
async function logs() {
  const mb = QUICK ? 20 : 200;
  const data = join(work, "logdata");
  Deno.mkdirSync(data, { recursive: true });
  const file = join(data, "out.txt");
  writeMixedLines(file, mb << 20);
  const secs: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  const cpu: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  const hashes: Record<MonitorName, string> = { ocimon: "", conmon: "" };
  const rounds = QUICK ? 1 : 3;
  for (let i = 0; i < rounds; i++) {
    for (const m of i % 2 ? [...MONITORS].reverse() : MONITORS) {
      const bundle = makeBundle(work, `logs-${m.name}-${i}`, { args: ["cat", "/data/out.txt"] });
      addBindMount(bundle, data, "/data");
      const c = await runOne(m, "logs", [], { bundle });
      try {
        await c.sync.next();
        const timed = await startToExit(c);
        secs[m.name].push(timed.secs);
        cpu[m.name].push(timed.cpu);
        if (i === 0) hashes[m.name] = await logDigest(c.logPath);
      } finally {
        await c.cleanup();
      }
    }
  }
  const rate = (s: number[]) => s.map((x) => mb / x);
  addRow("log throughput", `${mb} MB to stdout, until the exit file`, "s", secs);
  addRow(
    "log throughput",
    "MB/s",
    "MB/s",
    { ocimon: rate(secs.ocimon), conmon: rate(secs.conmon) },
    "≥ conmon",
  );
  addRow("log throughput", "monitor CPU", "s", cpu);
  rows.push({
    section: "log throughput",
    what: `log identical but for timestamps: ${hashes.ocimon === hashes.conmon ? "yes" : "NO"}`,
    unit: "",
    target: "identical",
  });
}

/** Deterministic lines of mixed lengths, some longer than 64 KiB. */
function writeMixedLines(path: string, bytes: number) {
  try {
    if (Deno.statSync(path).size === bytes) return;
  } catch { /* write it */ }
  const f = Deno.openSync(path, { write: true, create: true, truncate: true });
  const lengths = [0, 1, 79, 80, 200, 4095, 8191, 8192, 8193, 20000, 70000, 131072];
  let written = 0;
  let i = 0;
  const chunk: Uint8Array[] = [];
  let chunkSize = 0;
  while (written < bytes) {
    const len = Math.min(lengths[i++ % lengths.length], bytes - written - 1);
    const line = new Uint8Array(len + 1).fill(97 + (i % 26));
    line[len] = 10;
    chunk.push(line);
    chunkSize += line.length;
    written += line.length;
    if (chunkSize > 1 << 20 || written >= bytes) {
      for (const l of chunk) f.writeSync(l);
      chunk.length = 0;
      chunkSize = 0;
    }
  }
  f.close();
}

function addBindMount(bundle: string, source: string, dest: string) {
  const cfg = JSON.parse(Deno.readTextFileSync(join(bundle, "config.json")));
  cfg.mounts.push({ destination: dest, type: "bind", source, options: ["rbind", "ro"] });
  Deno.writeTextFileSync(join(bundle, "config.json"), JSON.stringify(cfg));
}

async function logDigest(path: string): Promise<string> {
  const text = Deno.readTextFileSync(path).replace(/^\S+ /gm, "");
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The exit command podman 4.3 passes its monitor (its cleanup call), paths
 * and id of the same length, with /bin/true in podman's place (the monitor
 * runs it at exit: it must touch nothing). It matters to the journald figures: journald
 * stores the sender's command line with every entry, compressed from 512
 * bytes on, and finding that compressed field again costs it about a third
 * of its speed (measured with libsystemd from C: 51.7k entries/s with a
 * 100-byte command line, 33.8k from 560 bytes). Under podman both monitors
 * are well past that; without these arguments conmon's command line was
 * just under it and ocimon's (with "deno run ..." in front) just over.
 */
const PODMAN_EXIT_COMMAND = [
  "--exit-command",
  "/bin/true",
  ...[
    ["--root", "/var/lib/containers/storage"],
    ["--runroot", "/run/containers/storage"],
    ["--log-level", "warning"],
    ["--cgroup-manager", "systemd"],
    ["--tmpdir", "/run/libpod"],
    ["--network-config-dir", ""],
    ["--network-backend", "netavark"],
    ["--volumepath", "/var/lib/containers/storage/volumes"],
    ["--runtime", "runc"],
    ["--storage-driver", "overlay"],
    ["--events-backend", "journald"],
    ["container", "cleanup", "0".repeat(64)],
  ].flat().flatMap((a) => ["--exit-command-arg", a]),
];

// 4b. Log throughput to the journal (-l journald): needs a running journald
// (bench.sh starts one of its own, scripts/with_journald.sh, where none runs).
async function journald() {
  if (!exists("/run/systemd/journal/socket")) {
    throw new Error("no journald: run `deno task bench --only journald` (it starts one)");
  }
  const lines = QUICK ? 50_000 : 200_000;
  const data = join(work, "jdata");
  Deno.mkdirSync(data, { recursive: true });
  const file = join(data, "lines.txt");
  const line = "x".repeat(99) + "\n";
  Deno.writeTextFileSync(file, line.repeat(lines));
  const secs: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  const cpu: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  const kept: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  const cmdline: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  const rounds = QUICK ? 1 : 3;
  for (let i = 0; i < rounds; i++) {
    for (const m of i % 2 ? [...MONITORS].reverse() : MONITORS) {
      const bundle = makeBundle(work, `jd-${m.name}-${i}`, { args: ["cat", "/data/lines.txt"] });
      addBindMount(bundle, data, "/data");
      const c = await runOne(m, "journald-bench", [], {
        bundle,
        drop: [...(monitorArgs(m.name).drop ?? []), "--log-path"],
        extra: ["--full-attach", "--log-path", "journald:", ...PODMAN_EXIT_COMMAND],
      });
      try {
        await c.sync.next();
        cmdline[m.name].push(Deno.readFileSync(`/proc/${c.monitorPid()}/cmdline`).length);
        const timed = await startToExit(c);
        secs[m.name].push(timed.secs);
        cpu[m.name].push(timed.cpu);
        await run(["journalctl", "--sync"]);
        const n = await run([
          "sh",
          "-c",
          `journalctl -o json --output-fields=PRIORITY CONTAINER_ID_FULL=${c.cid} | wc -l`,
        ]);
        kept[m.name].push(Number(n.stdout.trim()));
      } finally {
        await c.cleanup();
      }
    }
  }
  const what = `${lines} lines of 100 B (-l journald), until the exit file`;
  addRow("journald throughput", what, "s", secs);
  addRow("journald throughput", "entries/s", "1/s", {
    ocimon: secs.ocimon.map((x) => lines / x),
    conmon: secs.conmon.map((x) => lines / x),
  }, "≥ conmon");
  addRow("journald throughput", "monitor CPU", "s", cpu);
  addRow("journald throughput", `entries in the journal (of ${lines})`, "", kept, "all");
  addRow("journald throughput", "monitor's command line (journald's _CMDLINE)", "B", cmdline);
}

// 5. Scale: many containers at once.
async function scale() {
  const count = QUICK ? 10 : 50;
  const allRunning: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  const totalPss: Record<MonitorName, number[]> = { ocimon: [], conmon: [] };
  for (const m of MONITORS) {
    const t0 = performance.now();
    const cs = await Promise.all(Array.from({ length: count }, async () => {
      const c = await runOne(m, "scale", ["sleep", "600"]);
      await c.sync.next();
      await c.start();
      return c;
    }));
    allRunning[m.name].push((performance.now() - t0) / 1000);
    totalPss[m.name].push(cs.reduce((a, c) => a + processMemory(c.monitorPid()).pss, 0) / 1024);
    for (const c of cs) await c.cleanup();
  }
  addRow("scale", `${count} containers started at once: all running`, "s", allRunning);
  addRow("scale", "total monitor PSS", "MiB", totalPss);
}

// 8. The memory of the monitor's own cgroup (CRI-O's conmon_cgroup), peak
// through create and a short life that logs: the monitor and the runtime it
// runs are charged there. cgroup v1 memory.max_usage_in_bytes, v2 memory.peak.
// The peak counts the log's page cache too, which a limit reclaims first.
async function cgroupPeak() {
  const n = QUICK ? 3 : 8;
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
        base: work,
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
      rows.push({
        section: "monitor cgroup",
        what: `${runtime}: not on this host (${unsupported.slice(0, 40)}…)`,
        unit: "",
      });
      continue;
    }
    addRow(
      "monitor cgroup",
      `peak, create + a life that logs (${runtime}, cgroup v${memoryCgroupVersion()})`,
      "MiB",
      peaks,
      `ocimon accepts ≥ ${MIN_MONITOR_CGROUP_MIB}`,
    );
  }
}

const SECTIONS: Record<string, () => Promise<void>> = {
  lifecycle,
  podman: podmanLifecycle,
  execsync: execSync,
  memory,
  oom,
  logs,
  journald,
  scale,
  cgroup: cgroupPeak,
};

try {
  for (const [name, fn] of Object.entries(SECTIONS)) {
    if (ONLY && !ONLY.includes(name)) continue;
    console.error(`bench: ${name}…`);
    try {
      await fn();
    } catch (err) {
      console.error(`bench: ${name} failed: ${err instanceof Error ? err.stack : err}`);
      rows.push({
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

printTable(rows);
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
      quick: QUICK,
      rows,
    },
    null,
    2,
  ),
);
console.log(`\nfigures written to ${out}`);

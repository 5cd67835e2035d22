/**
 * Log throughput: a container that writes a file to stdout, until the exit
 * file: mixed line lengths (some longer than 64 KiB), then one line as long
 * as the file; the monitor's CPU; and whether both monitors wrote the same
 * log but for timestamps.
 *
 * @module
 */
import { join } from "node:path";
import { makeBundle } from "../../tests/support/bundle.ts";
import { alternate, type MonitorName, type PerMonitor, pick } from "./alternate.ts";
import { median } from "./report.ts";
import { addBindMount, addRow, type Bench, runOne, startToExit } from "./context.ts";

export async function logs(b: Bench) {
  const mb = b.quick ? 20 : 200;
  const data = join(b.work, "logdata");
  Deno.mkdirSync(data, { recursive: true });
  // What a monitor's life costs without output (start, create, exit files): the part of a
  // run's CPU that does not grow with the MB, taken away in the per-MB rows.
  Deno.writeTextFileSync(join(data, "empty.txt"), "");
  const base = await logCase(b, 0, "empty.txt", "no output");
  const mixed = join(data, "mixed.txt");
  writeMixedLines(mixed, mb << 20);
  await logCase(b, mb, "mixed.txt", `${mb} MB of mixed lines`, base);
  Deno.removeSync(mixed);
  // One line of `mb` MB: every 8 KiB read is a partial record (P), as conmon writes it.
  writeOneLine(join(data, "line.txt"), mb << 20);
  await logCase(b, mb, "line.txt", `one line of ${mb} MB`, base);
}

/**
 * One file to stdout through each monitor: time to the exit file, MB/s, CPU, same log; with
 * `base` (each monitor's CPU with no output), the CPU per MB above it. Returns the CPU seconds.
 */
async function logCase(
  b: Bench,
  mb: number,
  file: string,
  what: string,
  base?: PerMonitor<number[]>,
): Promise<PerMonitor<number[]>> {
  const section = "log throughput";
  const rounds = b.quick ? 1 : 3;
  const runs = await alternate(rounds, async (m, i) => {
    const bundle = makeBundle(b.work, `logs-${m.name}-${i}`, { args: ["cat", `/data/${file}`] });
    addBindMount(bundle, join(b.work, "logdata"), "/data");
    const c = await runOne(b, m, "logs", [], { bundle });
    try {
      await c.sync.next();
      const timed = await startToExit(c);
      return { ...timed, digest: i === 0 ? await logDigest(c.logPath) : undefined };
    } finally {
      await c.cleanup();
    }
  });
  const cpu = pick(runs, (r) => r.cpu);
  if (mb === 0) {
    addRow(b, section, `${what}: monitor CPU (start, create, exit)`, "s", cpu);
    return cpu;
  }
  const secs = pick(runs, (r) => r.secs);
  const rate = (s: number[]) => s.map((x) => mb / x);
  addRow(b, section, `${what} to stdout, until the exit file`, "s", secs);
  addRow(
    b,
    section,
    `${what}: MB/s`,
    "MB/s",
    { ocimon: rate(secs.ocimon), conmon: rate(secs.conmon) },
    "≥ conmon",
  );
  // CPU per MB is the CPU of the run over the same MB: its ratio is the monitor CPU's.
  addRow(
    b,
    section,
    `${what}: monitor CPU (start included)`,
    "s",
    cpu,
    "≤ 1.2×",
  );
  if (base) {
    const perMb = (name: MonitorName) => cpu[name].map((c) => (c - median(base[name])) * 1000 / mb);
    addRow(b, section, `${what}: CPU per MB above the no-output run`, "ms", {
      ocimon: perMb("ocimon"),
      conmon: perMb("conmon"),
    });
  }
  const same = runs.ocimon[0].digest === runs.conmon[0].digest;
  b.rows.push({
    section,
    what: `${what}: log identical but for timestamps: ${same ? "yes" : "NO"}`,
    unit: "",
    target: "identical",
  });
  return cpu;
}

/** One line of `bytes` bytes, its newline the last of them. */
function writeOneLine(path: string, bytes: number) {
  const f = Deno.openSync(path, { write: true, create: true, truncate: true });
  const block = new Uint8Array(1 << 20).fill(0x6c);
  for (let left = bytes; left > 0; left -= block.length) {
    const piece = block.subarray(0, Math.min(block.length, left));
    if (left <= block.length) piece[piece.length - 1] = 10;
    f.writeSync(piece);
  }
  f.close();
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

/** SHA-256 of a k8s-file log without its timestamps. */
async function logDigest(path: string): Promise<string> {
  const text = Deno.readTextFileSync(path).replace(/^\S+ /gm, "");
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

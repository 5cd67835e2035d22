/**
 * `ocimon run BUNDLE`: one container in the foreground, for a person at a
 * terminal. Ids and directories get defaults, the container's output goes to
 * our stdout/stderr, ocimon starts the container itself (the job podman does
 * otherwise), deletes it afterwards, and prints a short summary.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { parseCommandLine, UsageError } from "./cli/parse.ts";
import { monitorContainer, type MonitorResult } from "./monitor/mod.ts";
import type { Config } from "./cli/config.ts";
import { deleteArgv, startArgv } from "./runtime/runtime_args.ts";
import { protectFromOomKiller, runToCompletion } from "./runtime/oci_runtime.ts";
import { writeAll } from "./sys/fd.ts";
import { signalName } from "./sys/process.ts";
import type { ContainerStatus } from "./status/status_file.ts";
import type { Stream } from "./io/stream.ts";
import { which } from "./util/which.ts";
import { searchPath } from "./env.ts";

/** The first of runc, crun found on PATH. */
function findRuntime(): string | undefined {
  const dirs = searchPath();
  return which("runc", dirs) ?? which("crun", dirs);
}

function formatBytes(n: number | null): string {
  if (n === null) return "unknown";
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

/** The summary printed at exit. */
export function summary(s: ContainerStatus): string {
  const kills = s.oomKillCount;
  const lines = [
    `ocimon: container ${s.cid} exited with code ${s.exitCode}` +
    (s.signal ? ` (${s.signal})` : ""),
    `  OOMKilled: ${s.oomKilled}${s.oomKilled ? ` (${kills} kill${kills === 1 ? "" : "s"})` : ""}` +
    (s.timedOut ? "   timed out: true" : ""),
  ];
  for (const v of s.oom.victims) {
    lines.push(
      `    killed: ${v.comm} (pid ${v.pid}, ${v.init ? "main process" : "child"}` +
        (v.anonRssBytes !== null ? `, anon RSS ${formatBytes(v.anonRssBytes)}` : "") +
        `)${v.oomCgroup ? `, limit of ${v.oomCgroup}` : v.constraint ? `, ${v.constraint}` : ""}`,
    );
  }
  if (s.oomKilled && s.oom.victims.length === 0) {
    lines.push(`    victims unknown: ${s.oom.victimsSource}`);
  }
  const m = s.memory;
  lines.push(
    `  memory peak: ${formatBytes(m.peakBytes)}, limit: ${
      m.limitBytes === null ? "none" : formatBytes(m.limitBytes)
    }` + (s.cgroup ? `   cgroup v${s.cgroup.version} ${s.cgroup.path}` : ""),
  );
  if (m.pressure) {
    const p = m.pressure;
    lines.push(
      `  memory pressure: some avg10 ${p.some.avg10}% avg60 ${p.some.avg60}%` +
        (p.full ? `, full avg10 ${p.full.avg10}% avg60 ${p.full.avg60}%` : "") +
        `, stalled ${(p.some.total / 1e6).toFixed(3)} s`,
    );
  }
  return lines.join("\n") + "\n";
}

interface RunOptions {
  bundle: string;
  runtime: string;
  cid: string;
  statusFile?: string;
  timeout?: string;
}

const USAGE =
  "usage: ocimon run BUNDLE [--runtime PATH] [--status-file PATH] [--name NAME] [--timeout SECONDS]";

/** The command line of `ocimon run`, or what is wrong with it. */
function parseRunOptions(argv: string[]): RunOptions | string {
  let opts;
  try {
    opts = parseArgs({
      args: argv,
      options: {
        runtime: { type: "string", short: "r" },
        "status-file": { type: "string" },
        name: { type: "string", short: "n" },
        timeout: { type: "string", short: "T" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return (err as Error).message;
  }
  if (opts.positionals.length !== 1) return USAGE;
  const runtime = opts.values.runtime ?? findRuntime();
  if (!runtime) return "no runtime given (--runtime) and neither runc nor crun is on PATH";
  return {
    bundle: resolve(opts.positionals[0]),
    runtime: resolve(runtime),
    cid: opts.values.name ?? `ocimon-run-${crypto.randomUUID().slice(0, 8)}`,
    statusFile: opts.values["status-file"],
    timeout: opts.values.timeout,
  };
}

/** conmon's command line for one foreground container, its files in `work`. */
function monitorArgs(o: RunOptions, work: string): string[] {
  return [
    ["--cid", o.cid],
    ["--cuuid", o.cid],
    ["--name", o.cid],
    ["--runtime", o.runtime],
    ["--bundle", o.bundle],
    ["--container-pidfile", join(work, "pidfile")],
    ["--full-attach"],
    ["--exit-dir", work],
    ["--persist-dir", work],
    ["--log-path", "none"],
    ["--sync"],
    o.statusFile ? ["--status-file", o.statusFile] : [],
    o.timeout ? ["--timeout", o.timeout] : [],
  ].flat();
}

/** Monitors the container with the terminal as its output, starting it as podman would. */
function runInForeground(cfg: Config): Promise<MonitorResult> {
  const terminal = (stream: Stream, data: Uint8Array) =>
    writeAll(stream === "stdout" ? 1 : 2, data.slice());
  return monitorContainer(cfg, {
    sinks: [terminal],
    afterCreate: async (_pid, reaper) => {
      const argv = startArgv(cfg.runtime, cfg.runtimeArgs, cfg.cid);
      const r = await runToCompletion(reaper, argv, cfg.bundle, { 0: "null", 1: "null", 2: 2 });
      if (r.code !== 0) {
        throw new Error(
          `${cfg.runtime} start ${cfg.cid} failed (${r.signal ? signalName(r.signal) : r.code})`,
        );
      }
    },
  });
}

export async function runCommand(argv: string[]): Promise<number> {
  const o = parseRunOptions(argv);
  if (typeof o === "string") {
    console.error(o === USAGE ? o : `ocimon run: ${o}`);
    return 1;
  }
  const work = Deno.makeTempDirSync({ prefix: `ocimon-${o.cid}-` });
  let parsed;
  try {
    parsed = parseCommandLine(monitorArgs(o, work));
  } catch (err) {
    Deno.removeSync(work, { recursive: true });
    if (!(err instanceof UsageError)) throw err;
    console.error(`ocimon run: ${err.message}`);
    return 1;
  }
  if (parsed.action !== "monitor") return 1;
  const cfg = parsed.config;
  protectFromOomKiller();
  const result = await runInForeground(cfg);
  // The monitor's reaper has stopped; delete runs under a fresh one.
  const { ChildReaper } = await import("./reaper/child_reaper.ts");
  const reaper = new ChildReaper().start();
  await runToCompletion(reaper, deleteArgv(cfg.runtime, cfg.runtimeArgs, cfg.cid), cfg.bundle);
  reaper.stop();
  Deno.removeSync(work, { recursive: true });
  if (!result.ok) {
    console.error(`ocimon run: ${result.message.trimEnd()}`);
    return 1;
  }
  await Deno.stderr.write(new TextEncoder().encode(summary(result.status)));
  return result.status.exitCode;
}

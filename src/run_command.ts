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
import { monitorContainer } from "./monitor/mod.ts";
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

export async function runCommand(argv: string[]): Promise<number> {
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
    console.error(`ocimon run: ${(err as Error).message}`);
    return 1;
  }
  if (opts.positionals.length !== 1) {
    console.error(
      "usage: ocimon run BUNDLE [--runtime PATH] [--status-file PATH] [--name NAME] [--timeout SECONDS]",
    );
    return 1;
  }
  const bundle = resolve(opts.positionals[0]);
  const runtime = opts.values.runtime ?? findRuntime();
  if (!runtime) {
    console.error("ocimon run: no runtime given (--runtime) and neither runc nor crun is on PATH");
    return 1;
  }
  const cid = opts.values.name ?? `ocimon-run-${crypto.randomUUID().slice(0, 8)}`;
  const work = Deno.makeTempDirSync({ prefix: `ocimon-${cid}-` });
  const args = [
    "--cid",
    cid,
    "--cuuid",
    cid,
    "--name",
    cid,
    "--runtime",
    resolve(runtime),
    "--bundle",
    bundle,
    "--container-pidfile",
    join(work, "pidfile"),
    "--full-attach",
    "--exit-dir",
    work,
    "--persist-dir",
    work,
    "--log-path",
    "none",
    "--sync",
    ...(opts.values["status-file"] ? ["--status-file", opts.values["status-file"]] : []),
    ...(opts.values.timeout ? ["--timeout", opts.values.timeout] : []),
  ];
  let parsed;
  try {
    parsed = parseCommandLine(args);
  } catch (err) {
    Deno.removeSync(work, { recursive: true });
    if (!(err instanceof UsageError)) throw err;
    console.error(`ocimon run: ${err.message}`);
    return 1;
  }
  if (parsed.action !== "monitor") return 1;
  const cfg = parsed.config;
  protectFromOomKiller();
  const terminal = (stream: Stream, data: Uint8Array) =>
    writeAll(stream === "stdout" ? 1 : 2, data.slice());
  const result = await monitorContainer(cfg, {
    sinks: [terminal],
    afterCreate: async (_pid, reaper) => {
      const r = await runToCompletion(
        reaper,
        startArgv(cfg.runtime, cfg.runtimeArgs, cid),
        bundle,
        { 0: "null", 1: "null", 2: 2 },
      );
      if (r.code !== 0) {
        throw new Error(
          `${cfg.runtime} start ${cid} failed (${r.signal ? signalName(r.signal) : r.code})`,
        );
      }
    },
  });
  // The monitor's reaper has stopped; delete runs under a fresh one.
  const { ChildReaper } = await import("./reaper/child_reaper.ts");
  const reaper = new ChildReaper().start();
  await runToCompletion(reaper, deleteArgv(cfg.runtime, cfg.runtimeArgs, cid), bundle);
  reaper.stop();
  Deno.removeSync(work, { recursive: true });
  if (!result.ok) {
    console.error(`ocimon run: ${result.message.trimEnd()}`);
    return 1;
  }
  await Deno.stderr.write(new TextEncoder().encode(summary(result.status)));
  return result.status.exitCode;
}

/**
 * One container's life under ocimon, from `runtime create` to the exit
 * files: the orchestration of the reaper, the OOM watcher, the output relay
 * and the status writers. Each of those lives in its own module; this one
 * only puts them in order.
 *
 * @module
 */
import type { Config } from "./cli/config.ts";
import { ChildReaper } from "./reaper/child_reaper.ts";
import { Poller } from "./sys/poller.ts";
import { closeQuietly, readSome, setNonBlocking } from "./sys/fd.ts";
import { kill, signalName, type WaitResult } from "./sys/process.ts";
import { rfc3339Nano } from "./sys/time.ts";
import {
  closeChildEnds,
  createStdioPipes,
  OutputRelay,
  type OutputSink,
} from "./io/container_io.ts";
import { openLogSinks } from "./io/log_sinks.ts";
import { ParentPipe, SYNC_PIPE_ENV } from "./io/sync_pipe.ts";
import { createArgv, execArgv } from "./runtime/runtime_args.ts";
import { readPidFile, spawnChild } from "./runtime/oci_runtime.ts";
import { memoryCgroupOf } from "./cgroup/paths.ts";
import { type OomVerdict, OomWatcher } from "./cgroup/oom_watcher.ts";
import { readMemoryUsage } from "./cgroup/memory_files.ts";
import { type ContainerStatus, writeStatusFile } from "./status/status_file.ts";
import { writeExitDirFile, writeOomFiles, writePersistExitFile } from "./status/exit_files.ts";
import { runExitCommand } from "./runtime/exit_command.ts";

const SIGKILL = 9;

export interface MonitorHooks {
  /** Extra output sinks (the terminal, in `ocimon run`). */
  sinks?: OutputSink[];
  /** Called once the container exists; `ocimon run` starts it here. */
  afterCreate?: (pid: number, reaper: ChildReaper) => Promise<void>;
}

export type MonitorResult =
  | { ok: true; status: ContainerStatus }
  | { ok: false; message: string };

/** Monitors one container to its end. Never throws for runtime failures. */
export async function monitorContainer(
  cfg: Config,
  hooks: MonitorHooks = {},
): Promise<MonitorResult> {
  const sync = ParentPipe.fromEnv(SYNC_PIPE_ENV, cfg.apiVersion);
  const reaper = new ChildReaper().start();
  const poller = new Poller();
  const passthrough = cfg.logDrivers.some((d) => d.kind === "passthrough");
  const pipes = passthrough ? undefined : createStdioPipes(cfg.stdin);

  // --- create ----------------------------------------------------------
  const argv = cfg.exec ? execArgv(cfg) : createArgv(cfg);
  let runtimePid: number;
  try {
    runtimePid = spawnChild({
      argv,
      cwd: cfg.bundle,
      fds: pipes
        ? { 0: pipes.childStdin ?? "null", 1: pipes.childStdout, 2: pipes.childStderr }
        : {},
    });
  } catch (err) {
    const message = `cannot start ${cfg.runtime}: ${err instanceof Error ? err.message : err}`;
    return fail(message);
  } finally {
    if (pipes) closeChildEnds(pipes);
  }
  const created = await reaper.wait(runtimePid);
  if (created.code !== 0) {
    const stderr = pipes ? readAvailable(pipes.stderrReader) : "";
    const message = stderr ||
      `${cfg.runtime} ${cfg.exec ? "exec" : "create"} failed with ${describe(created)}`;
    return fail(message);
  }
  let pid: number;
  try {
    pid = readPidFile(cfg.containerPidfile);
  } catch (err) {
    return fail(`runtime succeeded but ${err instanceof Error ? err.message : err}`);
  }
  const startedAt = rfc3339Nano();

  // --- watch -------------------------------------------------------------
  const cg = memoryCgroupOf(pid);
  const watcher = cg ? OomWatcher.open(cg) : undefined;
  const targets = {
    cid: cfg.cid,
    bundle: cfg.bundle,
    persistDir: cfg.persistDir,
    exitDir: cfg.exitDir,
  };
  watcher?.watch(poller, () => writeOomFiles(targets));

  const logs = openLogSinks(cfg);
  const relay = pipes ? new OutputRelay(poller, pipes.stdoutReader, pipes.stderrReader) : undefined;
  if (relay) {
    for (const sink of [...logs.sinks, ...(hooks.sinks ?? [])]) relay.addSink(sink);
    relay.start();
  }
  sync.send(pid);

  let timedOut = false;
  const timer = cfg.timeout > 0
    ? setTimeout(() => {
      timedOut = true;
      kill(pid, SIGKILL);
    }, cfg.timeout * 1000)
    : undefined;

  if (hooks.afterCreate) {
    try {
      await hooks.afterCreate(pid, reaper);
    } catch (err) {
      console.error(`ocimon: ${err instanceof Error ? err.message : err}`);
      kill(pid, SIGKILL);
    }
  }

  // --- exit ---------------------------------------------------------------
  const exit = await reaper.wait(pid);
  const finishedAt = rfc3339Nano();
  clearTimeout(timer);
  relay?.drain();
  const verdict: OomVerdict = watcher?.verdict() ??
    { oomKilled: false, oomKillCount: 0, source: "none" };
  watcher?.close();
  const memory = cg ? readMemoryUsage(cg.dir, cg.version) : { peak: null, limit: null };
  logs.close();
  poller.close();

  const status: ContainerStatus = {
    version: 1,
    cid: cfg.cid,
    name: cfg.name ?? null,
    pid,
    runtime: cfg.runtime,
    exitCode: exit.code,
    signal: exit.signal ? signalName(exit.signal) : null,
    oomKilled: verdict.oomKilled,
    oomKillCount: verdict.oomKillCount,
    timedOut,
    startedAt,
    finishedAt,
    cgroup: cg ? { version: cg.version, path: cg.path, dir: cg.dir } : null,
    memory: { peakBytes: memory.peak, limitBytes: memory.limit },
  };
  // Order matters: oom, status, persist exit, exit-dir file (the "done" signal).
  if (verdict.oomKilled) writeOomFiles(targets);
  if (cfg.statusFile) writeStatusFile(cfg.statusFile, status);
  writePersistExitFile(targets, exit.code);
  writeExitDirFile(targets, exit.code);
  if (cfg.exec) sync.send(exit.code);
  sync.close();
  closeQuietly(pipes?.stdinWriter);

  await reaper.drain(1000);
  reaper.stop();
  if (cfg.exitCommand) await runExitCommand(cfg);
  return { ok: true, status };

  /** Reports a failed create to the caller and cleans up everything ours. */
  async function fail(message: string): Promise<MonitorResult> {
    sync.send(-1, message);
    sync.close();
    if (pipes) {
      closeQuietly(pipes.stdoutReader);
      closeQuietly(pipes.stderrReader);
      closeQuietly(pipes.stdinWriter);
    }
    poller.close();
    await reaper.drain(2000);
    reaper.stop();
    return { ok: false, message };
  }
}

function describe(r: WaitResult): string {
  return r.signal ? `signal ${signalName(r.signal)}` : `exit status ${r.code}`;
}

/** What a pipe holds right now, as text (for the runtime's error message). */
function readAvailable(fd: number): string {
  setNonBlocking(fd);
  const buf = new Uint8Array(8192);
  const parts: string[] = [];
  const dec = new TextDecoder();
  let total = 0;
  for (let n; total < 65536 && (n = readSome(fd, buf)) > 0; total += n) {
    parts.push(dec.decode(buf.subarray(0, n), { stream: true }));
  }
  return parts.join("");
}

/**
 * One container's life under ocimon, from `runtime create` (or `exec`) to
 * the exit files: the orchestration of the reaper, the I/O endpoints, the
 * OOM watcher and the status writers. Each of those lives in its own
 * module; this one only puts them in order.
 *
 * @module
 */
import type { Config } from "./cli/config.ts";
import { ChildReaper } from "./reaper/child_reaper.ts";
import { Poller, whenReadable } from "./sys/poller.ts";
import { closeQuietly, dupCloexec, readSome, setNonBlocking } from "./sys/fd.ts";
import { becomeSubreaper, getpgid, kill, signalName, type WaitResult } from "./sys/process.ts";
import { setWindowSize } from "./sys/tty.ts";
import { rfc3339Nano } from "./sys/time.ts";
import {
  closeChildEnds,
  closeParentEnds,
  createStdioPipes,
  OutputRelay,
  type OutputSink,
  type OutputSource,
  type StdioPipes,
} from "./io/container_io.ts";
import { loadLogDrivers, type LogSinks, openLogSinks } from "./io/log_sinks.ts";
import { ParentPipe } from "./io/sync_pipe.ts";
import { ATTACH_PIPE_ENV, pipeFdFromEnv, START_PIPE_ENV, SYNC_PIPE_ENV } from "./env.ts";
import { AttachServer } from "./io/attach.ts";
import { ControlFifos } from "./io/ctl_fifos.ts";
import { ConsoleSocket } from "./io/console_socket.ts";
import { StdinWriter } from "./io/stdin_writer.ts";
import { createArgv, deleteArgv, execArgv } from "./runtime/runtime_args.ts";
import { readPidFile, runToCompletion, spawnChild } from "./runtime/oci_runtime.ts";
import { memoryCgroupOf } from "./cgroup/paths.ts";
import { type OomVerdict, OomWatcher } from "./cgroup/oom_watcher.ts";
import { readMemoryUsage, readOomKill } from "./cgroup/memory_files.ts";
import { MIN_MONITOR_CGROUP_MIB } from "./cgroup/monitor_limit.ts";
import { type ContainerStatus, writeStatusFile } from "./status/status_file.ts";
import { writeExitDirFile, writeOomFiles, writePersistExitFile } from "./status/exit_files.ts";
import { runExitCommand } from "./runtime/exit_command.ts";
import { diag, errorText } from "./diag.ts";

const SIGKILL = 9;
/** What conmon reports for a --timeout kill, in the exit file and to exec callers. */
export const TIMED_OUT_EXIT = -1;
export const TIMED_OUT_MESSAGE = "command timed out";
/** Signals that, sent to the monitor, are passed on to the container. */
const FORWARDED: Deno.Signal[] = ["SIGTERM", "SIGINT", "SIGQUIT"];
const SIGNO: Record<string, number> = { SIGTERM: 15, SIGINT: 2, SIGQUIT: 3 };

export interface MonitorHooks {
  /** Extra output sinks (the terminal, in `ocimon run`). */
  sinks?: OutputSink[];
  /** Called once the container exists; `ocimon run` starts it here. */
  afterCreate?: (pid: number, reaper: ChildReaper) => Promise<void>;
  /** The k8s-file logs, already open (by the launcher: see io/log_files.ts). */
  logFiles?: number[];
}

export type MonitorResult =
  | { ok: true; status: ContainerStatus }
  | { ok: false; message: string };

/**
 * The endpoints a container's I/O goes through. What the runtime itself uses
 * (stdio pipes, the console socket) is made before it runs; what clients use
 * (attach socket, stdin writer, ctl/winsz FIFOs) is made by openForClients().
 */
class ContainerEndpoints {
  pipes?: StdioPipes;
  console?: ConsoleSocket;
  attach?: AttachServer;
  fifos?: ControlFifos;
  master?: number;
  stdin?: StdinWriter;

  constructor(
    readonly cfg: Config,
    readonly poller: Poller,
    readonly onReopenLogs: () => void,
  ) {
    const passthrough = cfg.logDrivers.some((d) => d.kind === "passthrough");
    if (passthrough) return; // the runtime gets our own stdio
    try {
      if (cfg.terminal) this.console = new ConsoleSocket();
      this.pipes = createStdioPipes(cfg.stdin && !cfg.terminal, !cfg.terminal);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Makes the attach socket, the stdin writer and the FIFOs. */
  openForClients(): void {
    if (!this.pipes) return;
    const cfg = this.cfg;
    // With -t, stdin waits for the pty in the writer's queue.
    if (cfg.terminal || this.pipes.stdinWriter !== undefined) {
      this.stdin = new StdinWriter(this.poller, this.pipes.stdinWriter);
      // Backpressure: clients are read only while the container's stdin takes more.
      this.stdin.onDrain = () => this.attach?.resumeInput();
    }
    // An exec without a bundle (CRI-O's ExecSync): nothing for clients, as conmon.
    if (!cfg.bundleEndpoints) return;
    this.attach = new AttachServer(this.poller, cfg, {
      onInput: (data) => this.stdin?.write(data) ?? true,
      onInputEnd: () => {
        if (cfg.stdin && !cfg.leaveStdinOpen) this.stdin?.close();
      },
    });
    this.fifos = new ControlFifos(this.poller, cfg.bundle, {
      onResize: (rows, cols) => {
        if (this.master !== undefined) setWindowSize(this.master, rows, cols);
      },
      onReopenLogs: this.onReopenLogs,
    });
  }

  /** The runtime's stdio: our pipes' child ends, or /dev/null. */
  runtimeFds(): Record<number, number | "null"> {
    if (!this.pipes) return {};
    return {
      0: this.pipes.childStdin ?? "null",
      1: this.pipes.childStdout ?? "null",
      2: this.pipes.childStderr,
    };
  }

  /** After create, with -t: take the pty and wire stdin to it. False if no pty came. */
  connect(): boolean {
    if (!this.console) return true;
    this.master = this.console.receiveMaster();
    if (this.master === undefined) return false;
    this.stdin?.connect(dupCloexec(this.master));
    return true;
  }

  outputSources(): OutputSource[] {
    if (!this.pipes) return [];
    const out: OutputSource[] = [];
    if (this.master !== undefined) out.push({ fd: this.master, stream: "stdout", tty: true });
    if (this.pipes.stdoutReader !== undefined) {
      out.push({ fd: this.pipes.stdoutReader, stream: "stdout" });
    }
    out.push({ fd: this.pipes.stderrReader, stream: "stderr" });
    return out;
  }

  /** Disconnects attach clients and removes sockets and FIFOs. */
  close(): void {
    this.attach?.close();
    this.fifos?.close();
    this.console?.close();
    this.stdin?.abort();
    for (const name of ["ctl", "winsz"]) {
      try {
        if (this.fifos) Deno.removeSync(`${this.cfg.bundle}/${name}`);
      } catch { /* gone */ }
    }
  }
}

/**
 * How far a monitor got: what the guard around it needs to finish its job
 * when something throws.
 */
interface Progress {
  sync?: ParentPipe;
  reaper?: ChildReaper;
  /** The container's (or exec process's) pid, once the runtime made it. */
  pid?: number;
  /** The caller has been told the pid: it counts on the exit files now. */
  pidSent: boolean;
  /** The container's exit code, once known. */
  exitCode?: number;
  /** The exit files are written: the monitor's duty to the caller is done. */
  reported: boolean;
}

/**
 * Monitors one container to its end. Never throws: whatever fails, the
 * caller is told (an error on the sync pipe, or the exit files), a container
 * the runtime made is never left running unwatched, and the reason goes to
 * the diagnostics.
 */
export async function monitorContainer(
  cfg: Config,
  hooks: MonitorHooks = {},
): Promise<MonitorResult> {
  const progress: Progress = { pidSent: false, reported: false };
  try {
    return await superviseContainer(cfg, hooks, progress);
  } catch (err) {
    return await recover(cfg, progress, err);
  }
}

interface Watching {
  cg: ReturnType<typeof memoryCgroupOf>;
  watcher?: OomWatcher;
  relay: OutputRelay;
}

/** Starts the OOM watcher and the output relay to the logs and clients. */
function startWatching(
  pid: number,
  poller: Poller,
  endpoints: ContainerEndpoints,
  hooks: MonitorHooks,
  logSinks: LogSinks,
  targets: Parameters<typeof writeOomFiles>[0],
): Watching {
  const cg = memoryCgroupOf(pid);
  const watcher = cg ? OomWatcher.open(cg) : undefined;
  watcher?.watch(poller, () => writeOomFiles(targets));
  const relay = new OutputRelay(poller, endpoints.outputSources());
  logSinks.sinks.forEach((sink, i) => relay.addSink(sink, `log ${i + 1}`));
  if (endpoints.attach) {
    const attach = endpoints.attach;
    relay.addSink((stream, data) => attach.broadcast(stream, data), "attach");
  }
  (hooks.sinks ?? []).forEach((sink, i) => relay.addSink(sink, `output ${i + 1}`));
  relay.start();
  return { cg, watcher, relay };
}

/** What the guard does with an error that escaped the monitor. */
async function recover(cfg: Config, p: Progress, err: unknown): Promise<MonitorResult> {
  const message = `internal error: ${errorText(err)}`;
  diag(message);
  if (p.reported) return { ok: false, message };
  const reaper = p.reaper;
  let exitCode = -1;
  if (p.pid !== undefined) {
    // Nobody would watch it any more: it ends with us.
    kill(p.pid, SIGKILL);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exit = p.exitCode === undefined && reaper
      ? await Promise.race([
        reaper.wait(p.pid),
        new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 2000))),
      ])
      : undefined;
    clearTimeout(timer);
    if (exit) exitCode = exit.code;
    if (p.exitCode !== undefined) exitCode = p.exitCode;
    if (!p.pidSent && !cfg.exec && reaper) {
      await guarded(`${cfg.runtime} delete`, async () => {
        await runToCompletion(
          reaper,
          deleteArgv(cfg.runtime, cfg.runtimeArgs, cfg.cid),
          cfg.bundle,
        );
      });
    }
  }
  if (p.pidSent) {
    const targets = {
      cid: cfg.cid,
      bundle: cfg.bundle,
      persistDir: cfg.persistDir,
      exitDir: cfg.exitDir,
    };
    guarded("writing the exit file", () => writePersistExitFile(targets, exitCode));
    guarded("writing the exit file", () => writeExitDirFile(targets, exitCode));
    if (cfg.exec) p.sync?.send(exitCode, message);
  } else {
    p.sync?.send(-1, message);
  }
  p.sync?.close();
  if (reaper) {
    await reaper.reapRemaining(1000);
    reaper.stop();
  }
  return { ok: false, message };
}

/** Runs `fn`; an error is said in the diagnostics, and goes no further. */
async function guarded(what: string, fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    diag(`${what}: ${errorText(err)}`);
  }
}

async function superviseContainer(
  cfg: Config,
  hooks: MonitorHooks,
  progress: Progress,
): Promise<MonitorResult> {
  const sync = ParentPipe.fromEnv(SYNC_PIPE_ENV, cfg.apiVersion, cfg.exec);
  progress.sync = sync;
  const reaper = new ChildReaper().start();
  progress.reaper = reaper;
  const poller = new Poller();
  let logSinks: LogSinks | undefined;
  let notify: { close(): void } | undefined;
  // Declared before anything can fail(), which reads it.
  let forward: (() => void)[] = [];
  let endpoints: ContainerEndpoints;
  try {
    // The logs exist before the container does (and before its exec starts).
    logSinks = openLogSinks(cfg, hooks.logFiles, await loadLogDrivers(cfg));
    endpoints = new ContainerEndpoints(cfg, poller, () => logSinks?.reopen());
  } catch (err) {
    return await fail(`cannot set up the container's I/O: ${errorText(err)}`);
  }
  // --sdnotify-socket: the container's notifications reach the host through us.
  if (cfg.sdnotifySocket) {
    try {
      const { NotifyProxy } = await import("./io/sd_notify.ts");
      notify = new NotifyProxy(poller, cfg.bundle, cfg.sdnotifySocket, diag);
    } catch (err) {
      return await fail(`cannot set up the sd-notify socket: ${errorText(err)}`);
    }
  }

  // Signals to the monitor go to the runtime, then to the container.
  let target = 0;
  forward = FORWARDED.map((sig) => {
    const handler = () => target > 0 && kill(target, SIGNO[sig]);
    Deno.addSignalListener(sig, handler);
    return () => Deno.removeSignalListener(sig, handler);
  });

  // --- create (or exec) ------------------------------------------------
  if (cfg.execAttach) {
    // podman attaches to our socket first, then lets the exec start.
    try {
      endpoints.openForClients();
    } catch (err) {
      return await fail(`cannot set up the container's I/O: ${errorText(err)}`);
    }
    ParentPipe.fromEnv(ATTACH_PIPE_ENV, cfg.apiVersion).send(0);
    const start = pipeFdFromEnv(START_PIPE_ENV);
    if (start !== undefined) {
      await whenReadable(poller, start);
      readSome(start, new Uint8Array(8192));
      closeQuietly(start);
    }
  }
  let runtimePid: number;
  try {
    runtimePid = spawnChild({
      argv: cfg.exec
        ? execArgv(cfg, endpoints.console?.path)
        : createArgv(cfg, endpoints.console?.path),
      cwd: cfg.bundle,
      fds: endpoints.runtimeFds(),
    });
  } catch (err) {
    return await fail(`cannot start ${cfg.runtime}: ${errorText(err)}`);
  } finally {
    if (endpoints.pipes) closeChildEnds(endpoints.pipes);
  }
  target = runtimePid;
  // Clients cannot reach the container before we report its pid, so their
  // endpoints are made while the runtime works, off the critical path of a
  // container's start (~5 ms, mostly binding system calls).
  let clientSetupError: unknown;
  if (!cfg.execAttach) {
    try {
      endpoints.openForClients();
    } catch (err) {
      clientSetupError = err;
    }
  }
  const created = await reaper.wait(runtimePid);
  if (created.code !== 0) {
    const stderr = endpoints.pipes ? readAvailable(endpoints.pipes.stderrReader) : "";
    const message = stderr ||
      `${cfg.runtime} ${cfg.exec ? "exec" : "create"} failed with ${describe(created)}`;
    // A runtime that fails cleans up after itself; one killed by a signal
    // (the OOM killer, say) may have made the container all the same.
    if (created.signal) {
      return await failCreated(readPidIfAny(cfg.containerPidfile), message + ownOomHint());
    }
    return await fail(message);
  }
  // From here on a container (or exec process) exists: a failure must not
  // leave it behind.
  let pid: number;
  try {
    pid = readPidFile(cfg.containerPidfile);
  } catch (err) {
    return await failCreated(undefined, `runtime succeeded but ${errorText(err)}`);
  }
  progress.pid = pid;
  if (clientSetupError !== undefined) {
    return await failCreated(
      pid,
      `cannot set up the container's I/O: ${errorText(clientSetupError)}`,
    );
  }
  let connected: boolean;
  try {
    connected = endpoints.connect();
  } catch (err) {
    return await failCreated(pid, `cannot take the container's terminal: ${errorText(err)}`);
  }
  if (!connected) return await failCreated(pid, "Runtime did not set up terminal");
  target = pid;
  const startedAt = rfc3339Nano();

  // --- watch -------------------------------------------------------------
  const targets = {
    cid: cfg.cid,
    bundle: cfg.bundleEndpoints ? cfg.bundle : undefined,
    persistDir: cfg.persistDir,
    exitDir: cfg.exitDir,
  };
  let watching: Watching;
  try {
    watching = startWatching(pid, poller, endpoints, hooks, logSinks, targets);
  } catch (err) {
    return await failCreated(pid, `cannot watch the container: ${errorText(err)}`);
  }
  const { cg, watcher, relay } = watching;
  // Legacy (API 0) exec callers expect one message only: the exit code.
  if (cfg.apiVersion >= 1 || !cfg.exec) sync.send(pid);
  progress.pidSent = true;

  let timedOut = false;
  const timer = cfg.timeout > 0
    ? setTimeout(() => {
      timedOut = true;
      // The whole process group, as conmon, unless that would be everyone.
      const pgid = getpgid(pid);
      kill(pgid > 1 ? -pgid : pid, SIGKILL);
    }, cfg.timeout * 1000)
    : undefined;

  if (hooks.afterCreate) {
    try {
      await hooks.afterCreate(pid, reaper);
    } catch (err) {
      diag(errorText(err));
      kill(pid, SIGKILL);
    }
  }

  // --- exit ---------------------------------------------------------------
  const exit = await reaper.wait(pid);
  const finishedAt = rfc3339Nano();
  clearTimeout(timer);
  target = 0;
  // The counters first: under systemd the empty scope, counters and all, is
  // removed soon after the exit, and draining the output can take a while.
  let verdict: OomVerdict = { oomKilled: false, oomKillCount: 0, source: "none" };
  await guarded("reading the OOM counters", () => {
    if (watcher) verdict = watcher.verdict();
  });
  // What the pipes hold now, and no more: a writer that outlives the
  // container must not hold back the exit files.
  await guarded("reading the container's last output", () => relay.drain());
  await guarded("closing the OOM watcher", () => watcher?.close());
  let memory: { peak: number | null; limit: number | null } = { peak: null, limit: null };
  await guarded("reading the container's memory use", () => {
    if (cg) memory = readMemoryUsage(cg.dir, cg.version);
  });
  // Sends under way reach the logs before the exit file says "done".
  await guarded("finishing the log writes", () => logSinks.settle());
  forward.forEach((off) => off());

  const exitCode = timedOut ? TIMED_OUT_EXIT : exit.code;
  progress.exitCode = exitCode;
  const status: ContainerStatus = {
    version: 1,
    cid: cfg.cid,
    name: cfg.name ?? null,
    pid,
    runtime: cfg.runtime,
    exitCode,
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
  // Each is written even if one before it failed.
  if (verdict.oomKilled) writeOomFiles(targets);
  if (cfg.statusFile) {
    const file = cfg.statusFile;
    await guarded("writing the status file", () => writeStatusFile(file, status));
  }
  await guarded("writing the persist exit file", () => writePersistExitFile(targets, exitCode));
  await guarded("writing the exit file", () => writeExitDirFile(targets, exitCode));
  if (cfg.exec) sync.send(exitCode, timedOut ? TIMED_OUT_MESSAGE : undefined);
  sync.close();
  progress.reported = true;
  // Only now end the attach sessions: a client that sees the end of output
  // and asks for the exit code must find the exit file already there.
  await guarded("ending attach sessions", async () => {
    await endpoints.attach?.flush();
    endpoints.close();
  });

  // Output that comes after the exit files (a writer that outlives the
  // container) still goes to the logs while we wait for our last children.
  await reaper.reapRemaining(1000);
  await guarded("closing the container's output", () => relay.stop());
  await guarded("closing the logs", async () => {
    await logSinks.settle();
    logSinks.close();
  });
  await guarded("closing the sd-notify socket", () => notify?.close());
  poller.close();
  await runExitCommandOnce();
  reaper.stop();
  return { ok: true, status };

  async function runExitCommandOnce(): Promise<void> {
    if (!cfg.exitCommand) return;
    // The exit command's own children are not ours to wait for.
    becomeSubreaper(false);
    const r = await runExitCommand(cfg, reaper);
    if (r && r.code !== 0) diag(`exit command ended with ${describe(r)}`);
  }

  /**
   * A failure after the runtime made the container (or exec process): kill
   * it and, for a container, have the runtime forget it, then fail.
   */
  async function failCreated(pid: number | undefined, message: string): Promise<MonitorResult> {
    // fail() reaps it; as subreaper we are its parent now.
    if (pid !== undefined) kill(pid, SIGKILL);
    if (!cfg.exec) {
      // Best effort: whatever happens here, fail() must still clean up and report.
      try {
        const argv = deleteArgv(cfg.runtime, cfg.runtimeArgs, cfg.cid);
        const r = await runToCompletion(reaper, argv, cfg.bundle);
        if (r.code !== 0) diag(`${cfg.runtime} delete ended with ${describe(r)}`);
      } catch (err) {
        diag(`cannot run ${cfg.runtime} delete: ${errorText(err)}`);
      }
    }
    return await fail(message);
  }

  /** Reports a failed create to the caller and removes everything ours. */
  async function fail(message: string): Promise<MonitorResult> {
    sync.send(-1, message);
    sync.close();
    logSinks?.close();
    notify?.close();
    endpoints?.close();
    if (endpoints?.pipes) closeParentEnds(endpoints.pipes);
    if (endpoints?.master !== undefined) closeQuietly(endpoints.master);
    poller.close();
    forward.forEach((off) => off());
    await reaper.reapRemaining(2000);
    // As conmon: the exit command (podman's cleanup) runs even when create failed.
    await runExitCommandOnce();
    reaper.stop();
    return { ok: false, message };
  }
}

function describe(r: WaitResult): string {
  return r.signal ? `signal ${signalName(r.signal)}` : `exit status ${r.code}`;
}

/**
 * Why the runtime may have died of SIGKILL: the OOM killer in the monitor's
 * own cgroup (which the runtime shares while it creates), said with the
 * limit that was too small.
 */
function ownOomHint(): string {
  const own = memoryCgroupOf("self");
  if (!own || !(readOomKill(own.dir, own.version)! > 0)) return "";
  const { limit } = readMemoryUsage(own.dir, own.version);
  const mib = limit === null ? "no" : `a ${Math.round(limit / 1048576)} MiB`;
  return ` (out of memory in the monitor's cgroup, ${mib} limit: ` +
    `give it at least ${MIN_MONITOR_CGROUP_MIB} MiB)`;
}

/** The pid in the runtime's pid file, if it wrote one. */
function readPidIfAny(path: string): number | undefined {
  try {
    return readPidFile(path);
  } catch {
    return undefined;
  }
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

/**
 * One container's life under ocimon, from `runtime create` (or `exec`) to
 * the exit files: the orchestration of the reaper, the I/O endpoints, the
 * OOM watcher and the status writers. Each of those lives in its own
 * module; this one only puts them in order.
 *
 * @module
 */
import type { Config } from "./cli/config.ts";
import { diag } from "./diag.ts";
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
import {
  ATTACH_PIPE_ENV,
  ParentPipe,
  pipeFdFromEnv,
  START_PIPE_ENV,
  SYNC_PIPE_ENV,
} from "./io/sync_pipe.ts";
import { AttachServer } from "./io/attach.ts";
import { ControlFifos } from "./io/ctl_fifos.ts";
import { ConsoleSocket } from "./io/console_socket.ts";
import { StdinWriter } from "./io/stdin_writer.ts";
import { createArgv, deleteArgv, execArgv } from "./runtime/runtime_args.ts";
import { readPidFile, runToCompletion, spawnChild } from "./runtime/oci_runtime.ts";
import { memoryCgroupOf } from "./cgroup/paths.ts";
import { type OomVerdict, OomWatcher } from "./cgroup/oom_watcher.ts";
import { readMemoryUsage } from "./cgroup/memory_files.ts";
import { type ContainerStatus, writeStatusFile } from "./status/status_file.ts";
import { writeExitDirFile, writeOomFiles, writePersistExitFile } from "./status/exit_files.ts";
import { runExitCommand } from "./runtime/exit_command.ts";

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
    }
    // An exec without a bundle (CRI-O's ExecSync): nothing for clients, as conmon.
    if (!cfg.bundleEndpoints) return;
    this.attach = new AttachServer(this.poller, cfg, {
      onInput: (data) => this.stdin?.write(data),
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

/** Monitors one container to its end. Never throws for runtime failures. */
export async function monitorContainer(
  cfg: Config,
  hooks: MonitorHooks = {},
): Promise<MonitorResult> {
  const sync = ParentPipe.fromEnv(SYNC_PIPE_ENV, cfg.apiVersion, cfg.exec);
  const reaper = new ChildReaper().start();
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
    return await fail(
      stderr || `${cfg.runtime} ${cfg.exec ? "exec" : "create"} failed with ${describe(created)}`,
    );
  }
  // From here on a container (or exec process) exists: a failure must not
  // leave it behind.
  let pid: number;
  try {
    pid = readPidFile(cfg.containerPidfile);
  } catch (err) {
    return await failCreated(undefined, `runtime succeeded but ${errorText(err)}`);
  }
  if (clientSetupError !== undefined) {
    return await failCreated(
      pid,
      `cannot set up the container's I/O: ${errorText(clientSetupError)}`,
    );
  }
  if (!endpoints.connect()) return await failCreated(pid, "Runtime did not set up terminal");
  target = pid;
  const startedAt = rfc3339Nano();

  // --- watch -------------------------------------------------------------
  const cg = memoryCgroupOf(pid);
  const watcher = cg ? OomWatcher.open(cg) : undefined;
  const targets = {
    cid: cfg.cid,
    bundle: cfg.bundleEndpoints ? cfg.bundle : undefined,
    persistDir: cfg.persistDir,
    exitDir: cfg.exitDir,
  };
  watcher?.watch(poller, () => writeOomFiles(targets));

  const relay = new OutputRelay(poller, endpoints.outputSources());
  for (const sink of logSinks.sinks) relay.addSink(sink);
  if (endpoints.attach) {
    const attach = endpoints.attach;
    relay.addSink((stream, data) => attach.broadcast(stream, data));
  }
  for (const sink of hooks.sinks ?? []) relay.addSink(sink);
  relay.start();
  // Legacy (API 0) exec callers expect one message only: the exit code.
  if (cfg.apiVersion >= 1 || !cfg.exec) sync.send(pid);

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
      console.error(`ocimon: ${errorText(err)}`);
      kill(pid, SIGKILL);
    }
  }

  // --- exit ---------------------------------------------------------------
  const exit = await reaper.wait(pid);
  const finishedAt = rfc3339Nano();
  clearTimeout(timer);
  target = 0;
  relay.drain();
  const verdict: OomVerdict = watcher?.verdict() ??
    { oomKilled: false, oomKillCount: 0, source: "none" };
  watcher?.close();
  const memory = cg ? readMemoryUsage(cg.dir, cg.version) : { peak: null, limit: null };
  await logSinks.settle();
  logSinks.close();
  notify?.close();
  forward.forEach((off) => off());

  const exitCode = timedOut ? TIMED_OUT_EXIT : exit.code;
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
  if (verdict.oomKilled) writeOomFiles(targets);
  if (cfg.statusFile) writeStatusFile(cfg.statusFile, status);
  writePersistExitFile(targets, exitCode);
  writeExitDirFile(targets, exitCode);
  if (cfg.exec) sync.send(exitCode, timedOut ? TIMED_OUT_MESSAGE : undefined);
  sync.close();
  // Only now end the attach sessions: a client that sees the end of output
  // and asks for the exit code must find the exit file already there.
  endpoints.close();
  poller.close();

  await reaper.drain(1000);
  await runExitCommandOnce();
  reaper.stop();
  return { ok: true, status };

  async function runExitCommandOnce(): Promise<void> {
    if (!cfg.exitCommand) return;
    // The exit command's own children are not ours to wait for.
    becomeSubreaper(false);
    const r = await runExitCommand(cfg, reaper);
    if (r && r.code !== 0) console.error(`ocimon: exit command ended with ${describe(r)}`);
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
        if (r.code !== 0) console.error(`ocimon: ${cfg.runtime} delete ended with ${describe(r)}`);
      } catch (err) {
        console.error(`ocimon: cannot run ${cfg.runtime} delete: ${errorText(err)}`);
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
    await reaper.drain(2000);
    // As conmon: the exit command (podman's cleanup) runs even when create failed.
    await runExitCommandOnce();
    reaper.stop();
    return { ok: false, message };
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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

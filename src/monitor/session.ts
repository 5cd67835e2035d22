/**
 * One monitor's session: everything it opened for one container, owned in
 * one place, and how far it got. The phases (prepare, create, watch, exit,
 * report) fill it in; `teardown()` closes whatever is there, on every path.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import type { ContainerEndpoints } from "../io/endpoints.ts";
import type { OutputRelay, OutputSink } from "../io/container_io.ts";
import type { LogSinks } from "../io/log_sinks.ts";
import type { OomEvidence } from "../oom/evidence.ts";
import type { OomKillReport } from "../oom/oom_report.ts";
import { ParentPipe } from "../io/sync_pipe.ts";
import { SYNC_PIPE_ENV } from "../env.ts";
import { ChildReaper } from "../reaper/child_reaper.ts";
import { Poller } from "../sys/poller.ts";
import { becomeSubreaper, signalName, type WaitResult } from "../sys/process.ts";
import { type ExitFileTargets, exitFileTargets } from "../status/exit_files.ts";
import type { ContainerStatus } from "../status/status_file.ts";
import { runExitCommand } from "../runtime/exit_command.ts";
import { diag, errorText } from "../diag.ts";

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
 * How far the monitor got, which says what giving up must undo:
 * - `setup`: nothing made yet but our own files and sockets;
 * - `created`: the runtime ran, a container (or exec process) may exist;
 * - `pid-sent`: the caller has its pid and now counts on the exit files;
 * - `reported`: the exit files are written, the duty to the caller is done.
 */
export type Stage = "setup" | "created" | "pid-sent" | "reported";

/** A failure the caller is told of in these words (not an internal error). */
export class MonitorFailure extends Error {}

/** Signals that, sent to the monitor, are passed on to the container. */
const FORWARDED = { SIGTERM: 15, SIGINT: 2, SIGQUIT: 3 } as const;

export class MonitorSession {
  readonly sync: ParentPipe;
  readonly reaper: ChildReaper;
  readonly poller = new Poller();
  /** Where the exit files go: one rule for every path. */
  readonly exitFiles: ExitFileTargets;
  stage: Stage = "setup";
  /** When the monitor began, before the runtime ran (CLOCK_REALTIME, µs). */
  readonly beganUsec = BigInt(Date.now()) * 1000n;
  /** The container's (or exec process's) pid, once the runtime made it. */
  pid?: number;
  /** The exit code, once the container has exited. */
  exitCode?: number;
  /** Where forwarded signals go: the runtime, then the container; 0 for nowhere. */
  signalTarget = 0;
  logSinks?: LogSinks;
  endpoints?: ContainerEndpoints;
  notify?: { close(): void };
  relay?: OutputRelay;
  /** Closes the OOM watcher, once there is one. */
  closeWatcher?: () => void;
  /** The kernel's OOM reports (/dev/kmsg), opened before the runtime runs. */
  oomEvidence?: OomEvidence;
  /** Reports already said in the diagnostics. */
  readonly announced = new WeakSet<OomKillReport>();
  #unforward: (() => void)[] = [];
  #exitCommandDone = false;

  constructor(readonly cfg: Config, readonly hooks: MonitorHooks) {
    this.sync = ParentPipe.fromEnv(SYNC_PIPE_ENV, cfg.apiVersion, cfg.exec);
    this.reaper = new ChildReaper().start();
    this.exitFiles = exitFileTargets(cfg);
  }

  /** From now on SIGTERM, SIGINT and SIGQUIT to the monitor go to `signalTarget`. */
  forwardSignals(): void {
    for (const [sig, signo] of Object.entries(FORWARDED)) {
      // Never a pid already reaped: its number may be someone else's now.
      const handler = () => this.reaper.signal(this.signalTarget, signo);
      Deno.addSignalListener(sig as Deno.Signal, handler);
      this.#unforward.push(() => Deno.removeSignalListener(sig as Deno.Signal, handler));
    }
  }

  stopForwarding(): void {
    this.#unforward.forEach((off) => off());
    this.#unforward = [];
  }

  /**
   * Closes everything the session opened, in order, each step on its own:
   * waits up to `reapMs` for our last children (output that comes meanwhile
   * still reaches the logs), then closes the output, logs, sockets and
   * poller, runs the exit command once, and stops reaping.
   */
  async teardown(reapMs: number): Promise<void> {
    await attempt("reaping the last children", () => this.reaper.reapRemaining(reapMs));
    const { relay, endpoints, logSinks } = this;
    // The relay owns our ends of the pipes once it runs; before, the endpoints do.
    if (relay) attempt("closing the container's output", () => relay.stop());
    attempt("closing the container's endpoints", () => {
      if (relay) endpoints?.close();
      else endpoints?.release();
    });
    await attempt("closing the logs", async () => {
      await logSinks?.settle();
      logSinks?.close();
    });
    attempt("closing the sd-notify socket", () => this.notify?.close());
    attempt("closing the OOM watcher", () => this.closeWatcher?.());
    attempt("closing /dev/kmsg", () => this.oomEvidence?.close());
    this.poller.close();
    this.stopForwarding();
    await this.runExitCommandOnce();
    this.reaper.stop();
  }

  /** The exit command (podman's cleanup), at most once whatever the path. */
  async runExitCommandOnce(): Promise<void> {
    if (!this.cfg.exitCommand || this.#exitCommandDone) return;
    this.#exitCommandDone = true;
    // The exit command's own children are not ours to wait for.
    becomeSubreaper(false);
    const r = await runExitCommand(this.cfg, this.reaper);
    if (r && r.code !== 0) diag(`exit command ended with ${describeExit(r)}`);
  }
}

/**
 * Runs `fn` and returns what it returns; an error is said in the
 * diagnostics and `fallback` returned instead. Each step of the report and
 * the teardown runs this way, so that one failing step skips no other.
 */
export function attempt<T>(what: string, fn: () => T, fallback?: Awaited<T>): T {
  const said = (err: unknown) => {
    diag(`${what}: ${errorText(err)}`);
    return fallback;
  };
  try {
    const r = fn();
    return (r instanceof Promise ? r.catch(said) : r) as T;
  } catch (err) {
    return said(err) as T;
  }
}

/** "exit status N" or "signal SIGX", for messages. */
export function describeExit(r: WaitResult): string {
  return r.signal ? `signal ${signalName(r.signal)}` : `exit status ${r.code}`;
}

/**
 * Phase 2, create: `runtime create` (or `exec`) runs, and the container's
 * pid comes back. With --exec-attach, podman first attaches to our socket
 * and then lets the exec start. Hands on the pid and when it started.
 *
 * @module
 */
import type { ContainerEndpoints } from "../io/endpoints.ts";
import { closeChildEnds } from "../io/container_io.ts";
import { ParentPipe } from "../io/sync_pipe.ts";
import { ATTACH_PIPE_ENV, listenPid, pipeFdFromEnv, START_PIPE_ENV } from "../env.ts";
import { createArgv, execArgv, restoreArgv } from "../runtime/runtime_args.ts";
import { listenPidPlan, withListenPid } from "../runtime/listen_pid.ts";
import { readPidFile, spawnChild } from "../runtime/oci_runtime.ts";
import { memoryCgroupOf } from "../cgroup/paths.ts";
import { readMemoryUsage, readOomKill } from "../cgroup/memory_files.ts";
import { MIN_MONITOR_CGROUP_MIB } from "../cgroup/monitor_limit.ts";
import { closeQuietly, readSome, setNonBlocking } from "../sys/fd.ts";
import { whenReadable } from "../sys/poller.ts";
import type { WaitResult } from "../sys/process.ts";
import { rfc3339Nano } from "../sys/time.ts";
import { diag, errorText } from "../diag.ts";
import { attempt, describeExit, MonitorFailure, type MonitorSession } from "./session.ts";
import { createTimeKill } from "./oom_reports.ts";

/** The hand-off from create to watch. */
export interface Created {
  pid: number;
  /** When the runtime had made the container (RFC 3339, ns). */
  startedAt: string;
}

export async function create(s: MonitorSession): Promise<Created> {
  const { cfg } = s;
  const endpoints = s.endpoints!;
  if (cfg.execAttach) await attachHandshake(s, endpoints);
  const runtimePid = startRuntime(s, endpoints);
  s.signalTarget = runtimePid;
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
  const ran = await s.reaper.wait(runtimePid);
  if (ran.code !== 0 && !execRanAnyway(s, ran)) {
    const stderr = endpoints.pipes ? readAvailable(endpoints.pipes.stderrReader) : "";
    const oomKill = await attempt("reading the kernel's OOM reports", () => createTimeKill(s), "");
    const verb = cfg.exec ? "exec" : cfg.restore !== undefined ? "restore" : "create";
    const message = joinLines(
      stderr || `${cfg.runtime} ${verb} failed with ${describeExit(ran)}`,
      oomKill,
    );
    // A runtime that fails cleans up after itself; one killed by a signal
    // (the OOM killer, say) may have made the container all the same.
    if (!ran.signal) throw new MonitorFailure(message);
    s.stage = "created";
    s.pid = readPidIfAny(cfg.containerPidfile);
    // The kernel's report names the cgroup and its limit already; the counter is the fallback.
    throw new MonitorFailure(message + (oomKill ? "" : ownOomHint()));
  }
  // From here on a container (or exec process) exists: giving up undoes it.
  s.stage = "created";
  try {
    s.pid = readPidFile(cfg.containerPidfile);
  } catch (err) {
    throw new MonitorFailure(`runtime succeeded but ${errorText(err)}`);
  }
  if (clientSetupError !== undefined) {
    throw new MonitorFailure(`cannot set up the container's I/O: ${errorText(clientSetupError)}`);
  }
  connectTerminal(endpoints);
  s.signalTarget = s.pid;
  return { pid: s.pid, startedAt: rfc3339Nano() };
}

/**
 * An exec whose runtime ended non-zero but whose process exists (its pid
 * file was written) is not a failed create: as conmon main, the process is
 * watched and its own exit code is the exec's (podman's healthchecks read
 * it). A runtime that ended by a signal, or wrote no pid file (runc, for a
 * command it cannot start), failed: the caller gets its message.
 */
function execRanAnyway(s: MonitorSession, ran: WaitResult): boolean {
  if (!s.cfg.exec || ran.signal || readPidIfAny(s.cfg.containerPidfile) === undefined) return false;
  diag(
    `${s.cfg.runtime} exec ended with ${describeExit(ran)}; its process is watched all the same`,
  );
  return true;
}

/** --exec-attach: our attach socket first, then podman says "go on". */
async function attachHandshake(s: MonitorSession, endpoints: ContainerEndpoints): Promise<void> {
  try {
    endpoints.openForClients();
  } catch (err) {
    throw new MonitorFailure(`cannot set up the container's I/O: ${errorText(err)}`);
  }
  ParentPipe.fromEnv(ATTACH_PIPE_ENV, s.cfg.apiVersion).send(0);
  const start = pipeFdFromEnv(START_PIPE_ENV);
  if (start === undefined) return;
  await whenReadable(s.poller, start);
  readSome(start, new Uint8Array(8192));
  closeQuietly(start);
}

/**
 * Spawns `runtime create` (`restore` with --restore, `exec` with --exec) on
 * our pipes; returns its pid. Under socket activation the runtime sees
 * LISTEN_PID as its own pid where conmon would make it so.
 */
function startRuntime(s: MonitorSession, endpoints: ContainerEndpoints): number {
  const { cfg } = s;
  const consoleSocket = endpoints.console?.path;
  const argv = cfg.exec
    ? execArgv(cfg, consoleSocket)
    : cfg.restore !== undefined
    ? restoreArgv(cfg, consoleSocket)
    : createArgv(cfg, consoleSocket);
  const plan = listenPidPlan(listenPid(), Deno.pid, cfg.replaceListenPid);
  try {
    if (plan.action === "refuse") throw new MonitorFailure(plan.message);
    return s.reaper.started(spawnChild({
      argv: plan.action === "replace" ? withListenPid(argv) : argv,
      cwd: cfg.bundle,
      fds: endpoints.runtimeFds(),
    }));
  } catch (err) {
    if (err instanceof MonitorFailure) throw err;
    throw new MonitorFailure(`cannot start ${cfg.runtime}: ${errorText(err)}`);
  } finally {
    if (endpoints.pipes) closeChildEnds(endpoints.pipes);
  }
}

/** With -t: takes the pty the runtime sent and wires stdin to it. */
function connectTerminal(endpoints: ContainerEndpoints): void {
  let connected: boolean;
  try {
    connected = endpoints.connect();
  } catch (err) {
    throw new MonitorFailure(`cannot take the container's terminal: ${errorText(err)}`);
  }
  if (!connected) throw new MonitorFailure("Runtime did not set up terminal");
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
  const mib = limit === null ? undefined : Math.round(limit / 1048576);
  // At or above the floor (a runtime that needs more than ours, say): more than it has.
  const more = mib === undefined || mib < MIN_MONITOR_CGROUP_MIB
    ? `at least ${MIN_MONITOR_CGROUP_MIB} MiB`
    : `more than ${mib} MiB`;
  return ` (out of memory in the monitor's cgroup, ${
    mib === undefined ? "no" : `a ${mib} MiB`
  } limit: give it ${more})`;
}

/** The pid in the runtime's pid file, if it wrote one. */
function readPidIfAny(path: string): number | undefined {
  try {
    return readPidFile(path);
  } catch {
    return undefined;
  }
}

/** The runtime's message, and ours on a line of its own after it. */
function joinLines(message: string, more: string): string {
  return more ? `${message.trimEnd()}\n${more}` : message;
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

/**
 * A stand-in for CRI-O as it drives its container monitor, written from
 * CRI-O's source (cri-o/cri-o main): every point below names the CRI-O file
 * and function it follows. CRI-O itself cannot be installed here, so this is
 * how the `crio` lane (tests/crio) holds ocimon (and conmon, the control) to
 * CRI-O's contract; the bench's ExecSync figures run through it too.
 *
 * The monitor is OCIMON_BIN (the crio-conmon lane sets /usr/bin/conmon); the
 * runtime is OCIMON_TEST_RUNTIME (runc or crun).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { spawn } from "../../src/sys/spawn.ts";
import {
  closeQuietly,
  openRaw,
  pipe,
  readSome,
  setNonBlocking,
  writeAll,
} from "../../src/sys/fd.ts";
import { O_CLOEXEC, O_CREAT, O_WRONLY, SHUT_WR, SOCK_SEQPACKET } from "../../src/sys/libc.ts";
import { connectUnix, recvSome, shutdownSocket, socketPair } from "../../src/sys/socket.ts";
import { tryWait, type WaitResult } from "../../src/sys/process.ts";
import { makeBundle } from "./bundle.ts";
import { OCIMON_BIN, RUNTIME, tempDir } from "./env.ts";
import { readIfExists, readToEnd, sleep, waitFor } from "./harness.ts";

/** internal/oci/runtime_oci.go: maxExecSyncSize, the cap on an ExecSync's output (16 MiB). */
export const MAX_EXEC_SYNC_SIZE = 16 * 1024 * 1024;
/** pkg/config/config.go defaults: monitor_env is just a PATH. */
const DEFAULT_MONITOR_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];
/** internal/config/conmonmgr/conmonmgr.go: versions that unlock --sync and --log-global-size-max. */
const SYNC_VERSION = [2, 0, 19];
const LOG_GLOBAL_SIZE_MAX_VERSION = [2, 1, 2];

/**
 * internal/config/conmonmgr/conmonmgr.go (New, parseConmonVersion): runs
 * `MONITOR --version` and takes the third whitespace field of its output as
 * the version; the features it unlocks follow from that alone.
 */
export async function probeMonitor(monitor = OCIMON_BIN) {
  const out = await new Deno.Command(monitor, { args: ["--version"], stdout: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const version = (text.split(/\s+/)[2] ?? "").split(".").map(Number);
  const atLeast = (v: number[]) => {
    for (let i = 0; i < 3; i++) if ((version[i] ?? 0) !== v[i]) return (version[i] ?? 0) > v[i];
    return true;
  };
  return {
    text,
    version: version.join("."),
    supportsSync: atLeast(SYNC_VERSION),
    supportsLogGlobalSizeMax: atLeast(LOG_GLOBAL_SIZE_MAX_VERSION),
    isOcimon: text.includes("ocimon"),
  };
}
export type MonitorInfo = Awaited<ReturnType<typeof probeMonitor>>;

/** Go's exec.Cmd keeps the last of duplicate variables (os/exec dedupEnv). */
function dedupEnv(env: string[]): string[] {
  const byKey = new Map<string, string>();
  for (const kv of env) byKey.set(kv.slice(0, kv.indexOf("=")), kv);
  return [...byKey.values()];
}

/**
 * internal/oci/runtime_oci.go (prepareEnv): the environment is replaced, not
 * inherited: monitor_env, CRI_O_EXTERNAL=1, XDG_RUNTIME_DIR and PATH from
 * CRI-O's own environment, and the pipe numbers when it hands pipes over.
 */
function prepareEnv(monitorEnv: string[], addOciSyncPipe: boolean): string[] {
  const env = [...monitorEnv, "CRI_O_EXTERNAL=1"];
  const xdg = Deno.env.get("XDG_RUNTIME_DIR");
  if (xdg !== undefined) env.push(`XDG_RUNTIME_DIR=${xdg}`);
  const path = Deno.env.get("PATH");
  if (path !== undefined) env.push(`PATH=${path}`);
  if (addOciSyncPipe) env.push("_OCI_SYNCPIPE=3", "_OCI_STARTPIPE=4");
  return dedupEnv(env);
}

/** An fd as an async Deno file (through /proc), taking ownership of it. */
function asFile(fd: number, write = false): Deno.FsFile {
  const f = Deno.openSync(`/proc/self/fd/${fd}`, write ? { write: true } : { read: true });
  closeQuietly(fd);
  return f;
}

/** Go's exec.Cmd.Wait: the process has exited and its output pipes reached EOF. */
async function waitProcess(pid: number, ms: number, what: string): Promise<WaitResult> {
  return await waitFor(() => tryWait(pid), ms, what);
}

/**
 * encoding/json's Decoder.Decode on CRI-O's end of the sync pipe (a socket
 * or a pipe, read raw: sockets cannot be reopened through /proc): the first
 * JSON value on the stream.
 */
async function decodeOne(fd: number, ms: number): Promise<Record<string, unknown>> {
  setNonBlocking(fd);
  let text = "";
  const buf = new Uint8Array(4096);
  const deadline = Date.now() + ms;
  for (;;) {
    const end = firstValueEnd(text);
    if (end > 0) return JSON.parse(text.slice(0, end));
    const n = readSome(fd, buf);
    if (n === 0) throw new Error(`EOF on the sync pipe (got '${text}')`);
    if (n > 0) {
      text += new TextDecoder().decode(buf.subarray(0, n));
      continue;
    }
    if (Date.now() > deadline) throw new Error(`no JSON value on the sync pipe in ${ms} ms`);
    await sleep(5);
  }
}

/** Where the first top-level JSON object in `s` ends, or 0. */
function firstValueEnd(s: string): number {
  let depth = 0, inStr = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (inStr) {
      if (ch === "\\") i++;
      else if (ch === '"') inStr = false;
    } else if (ch === '"') inStr = true;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return i + 1;
  }
  return 0;
}

/**
 * internal/oci/runtime_oci.go (parseLog): the exec log's records are
 * `TIMESTAMP STREAM TAG MESSAGE`; a partial (P) record's message is joined
 * without its newline.
 */
export function parseLog(log: Uint8Array): { stdout: string; stderr: string } {
  const text = new TextDecoder().decode(log);
  let stdout = "", stderr = "";
  for (const line of text.split(/(?<=\n)/)) {
    if (line.length === 0) continue;
    const parts = line.split(" ");
    if (parts.length < 4) continue;
    let content = parts.slice(3).join(" ");
    if (parts[2] === "P" && content.endsWith("\n")) content = content.slice(0, -1);
    if (parts[1] === "stdout") stdout += content;
    else if (parts[1] === "stderr") stderr += content;
  }
  return { stdout, stderr };
}

export interface ExecSyncResponse {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Bytes in the exec log before CRI-O truncated it to MAX_EXEC_SYNC_SIZE. */
  logBytes: number;
}

/** What CRI-O returns as an error (ExecSyncError) rather than a response. */
export class ExecSyncError extends Error {
  constructor(message: string, readonly monitorStderr: string) {
    super(message);
  }
}

export interface CreateOptions {
  args: string[];
  /** The container id (default: a short unique one; CRI-O's are 64 hex digits). */
  id?: string;
  terminal?: boolean;
  stdin?: boolean;
  stdinOnce?: boolean;
  memoryLimit?: number;
  logSizeMax?: number;
  /** linux.cgroupsPath (default /ocimon-crio/ID; CRI-O's systemd form is SLICE:crio:ID). */
  cgroupsPath?: string;
}

export interface ContainerExit {
  exitCode: number;
  oomKilled: boolean;
  finished: Date;
}

let seq = 0;

/** One CRI-O server: its directories, its exit monitor, its configuration. */
export class Crio {
  readonly base = tempDir("crio");
  /** crio.conf container_exits_dir. */
  readonly exitsDir = join(this.base, "exits");
  /** crio.conf container_attach_socket_dir. */
  readonly attachSocketDir = join(this.base, "attach");
  /** The runtime's --root (crio.conf runtime_root). */
  readonly runtimeRoot = join(this.base, "runtime-root");
  /** The working directory CRI-O runs in ("/" under systemd): must stay untouched. */
  readonly crioCwd = join(this.base, "crio-cwd");
  readonly monitorEnv = DEFAULT_MONITOR_ENV;
  readonly logLevel = "info";
  #watcher: Deno.FsWatcher;
  #exits = new Map<string, () => void>();
  #watching: Promise<void>;

  constructor(
    readonly info: MonitorInfo,
    /** cgroup_manager = "systemd": -s to the monitor, --systemd-cgroup to the runtime. */
    readonly systemdCgroup = false,
    readonly runtime = RUNTIME,
    readonly monitor = OCIMON_BIN,
  ) {
    for (const d of [this.exitsDir, this.attachSocketDir, this.runtimeRoot, this.crioCwd]) {
      Deno.mkdirSync(d, { recursive: true });
    }
    // server/server.go (StartExitMonitor, handleExit): fsnotify on the exits
    // dir; a Create event (fsnotify reports inotify's IN_MOVED_TO as Create)
    // of EXITS/ID starts the status update.
    const watcher = Deno.watchFs(this.exitsDir, { recursive: false });
    this.#watcher = watcher;
    this.#watching = (async () => {
      for await (const ev of watcher) {
        if (ev.kind !== "create" && ev.kind !== "rename") continue;
        for (const p of ev.paths) {
          if (dirname(p) !== this.exitsDir) continue;
          this.#exits.get(basename(p))?.();
        }
      }
    })();
  }

  /** internal/oci/runtime_oci.go (defaultRuntimeArgs): --root R, and --systemd-cgroup. */
  defaultRuntimeArgs(): string[] {
    return ["--root", this.runtimeRoot, ...(this.systemdCgroup ? ["--systemd-cgroup"] : [])];
  }

  /** internal/oci/runtime_oci.go (runtimeCmd): the runtime, env from prepareEnv without pipes. */
  async runtimeCmd(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = await new Deno.Command(this.runtime, {
      args: [...this.defaultRuntimeArgs(), ...args],
      env: Object.fromEntries(
        prepareEnv(this.monitorEnv, false).map((kv) => {
          const i = kv.indexOf("=");
          return [kv.slice(0, i), kv.slice(i + 1)];
        }),
      ),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  /** Registers interest in EXITS/ID before it can appear. */
  expectExit(id: string): Promise<void> {
    return new Promise((resolve) => this.#exits.set(id, resolve));
  }

  /**
   * internal/oci/runtime_oci.go (CreateContainer): the monitor's flags in
   * CRI-O's order, the bundle as working directory, a process group of its
   * own (oci_linux.go sysProcAttrPlatform), socketpairs on fd 3 and 4
   * (oci_linux.go newPipe), CRI-O's stdio; one byte on the start pipe once
   * the monitor is in its cgroup; the launcher waited for; then one JSON
   * value, `{"pid": N}`, read from the sync pipe.
   */
  async createContainer(opts: CreateOptions): Promise<Container> {
    const id = opts.id ?? `crio${Deno.pid}x${++seq}`;
    ++seq;
    const name = `k8s_ctr-${seq}_pod_ns_uid_0`;
    // Bundle (run dir) and persist dir (data dir) are different directories.
    const bundle = makeBundle(join(this.base, "run"), `userdata${seq}`, {
      args: opts.args,
      terminal: opts.terminal,
      memoryLimit: opts.memoryLimit,
      cgroupsPath: opts.cgroupsPath ?? `/ocimon-crio/${id}`,
    });
    const dir = join(this.base, "lib", id);
    Deno.mkdirSync(dir, { recursive: true });
    const logDir = join(this.base, "pods", id);
    Deno.mkdirSync(logDir, { recursive: true });
    const logPath = join(logDir, "0.log");

    const args = [
      ["-b", bundle],
      ["-c", id],
      ["--exit-dir", this.exitsDir],
      ["-l", logPath],
      ["--log-level", this.logLevel],
      ["-n", name],
      ["-P", join(bundle, "conmon-pidfile")],
      ["-p", join(bundle, "pidfile")],
      ["--persist-dir", dir],
      ["-r", this.runtime],
      ["--runtime-arg", `--root=${this.runtimeRoot}`],
      ["--socket-dir-path", this.attachSocketDir],
      ["--syslog"],
      ["-u", id],
    ].flat();
    if (this.systemdCgroup) args.push("-s");
    if ((opts.logSizeMax ?? -1) >= 0) args.push("--log-size-max", String(opts.logSizeMax));
    if (opts.terminal) args.push("-t");
    else if (opts.stdin) {
      if (!opts.stdinOnce) args.push("--leave-stdin-open");
      args.push("-i");
    }

    const [parentSync, childSync] = socketPair();
    const [childStart, parentStart] = socketPair();
    // CRI-O's own stdio (the journal under systemd): a file here.
    const errPath = join(dir, "monitor-output");
    const errW = openRaw(errPath, O_WRONLY | O_CREAT | O_CLOEXEC);
    const pid = spawn({
      path: this.monitor,
      argv: [this.monitor, ...args],
      env: prepareEnv(this.monitorEnv, true),
      cwd: bundle,
      newProcessGroup: true,
      fds: { 0: "null", 1: errW, 2: errW, 3: childSync, 4: childStart },
    });
    closeQuietly(childSync);
    closeQuietly(childStart);
    closeQuietly(errW);
    try {
      // (createContainerPlatform would move the monitor into its cgroup here.)
      writeAll(parentStart, new Uint8Array([0]));
      const launcher = await waitProcess(pid, 30_000, "the monitor's launcher");
      if (launcher.code !== 0) {
        const out = Deno.readTextFileSync(errPath);
        throw new Error(`monitor exited with ${JSON.stringify(launcher)}: ${out}`);
      }
      const si = await decodeOne(parentSync, 240_000);
      if (typeof si.pid !== "number") {
        throw new Error(`sync pipe: no "pid" key in ${JSON.stringify(si)}`);
      }
      if (si.pid === -1) throw new Error(`container create failed: ${si.message ?? ""}`);
      const c = new Container(this, id, name, bundle, dir, logPath, si.pid);
      c.readMonitorPid();
      return c;
    } finally {
      closeQuietly(parentSync);
      closeQuietly(parentStart);
    }
  }

  /**
   * internal/oci/runtime_oci.go (ExecSyncContainer, prepareExec,
   * prepareProcessExec): no -b and no -u; the working directory is CRI-O's
   * own; the sync pipe a plain pipe and the start pipe a socketpair; stdout
   * and stderr to CRI-O's buffers. After the monitor exits, one JSON value
   * `{"exit_code": N, "message": …}` is decoded; -1 with "command timed out"
   * is a response, any other -1 an error. The output is the temp log,
   * truncated to 16 MiB (TruncateAndReadFile) and parsed (parseLog).
   */
  async execSync(c: Container, command: string[], timeout = 0): Promise<ExecSyncResponse> {
    const tmp = Deno.makeTempDirSync({ dir: this.base, prefix: "exec-" });
    const pidFile = join(tmp, "pidfile");
    Deno.writeTextFileSync(pidFile, ""); // os.CreateTemp: it exists, empty
    const logPath = join(tmp, `crio-log-${c.id}`);
    Deno.writeTextFileSync(logPath, "");
    const processFile = join(tmp, "exec-process-");
    const spec = JSON.parse(Deno.readTextFileSync(join(c.bundle, "config.json"))).process;
    spec.args = command;
    spec.terminal = c.terminal;
    Deno.writeTextFileSync(processFile, JSON.stringify(spec));

    const args = [
      ["-c", c.id],
      ["-n", c.name],
      ["-r", this.runtime],
      ["-p", pidFile],
      ["-e"],
      ["-l", logPath],
      ["--socket-dir-path", this.attachSocketDir],
      ["--log-level", this.logLevel],
    ].flat();
    if (this.info.supportsSync) args.push("--sync");
    if (this.info.supportsLogGlobalSizeMax) {
      args.push("--log-global-size-max", String(MAX_EXEC_SYNC_SIZE));
    }
    if (c.terminal) args.push("-t");
    if (timeout > 0) args.push("-T", String(timeout));
    if (this.systemdCgroup) args.push("-s");
    args.push("--exec-process-spec", processFile, "--runtime-arg", `--root=${this.runtimeRoot}`);

    const [parentSync, childSync] = pipe();
    const [childStart, parentStart] = socketPair();
    const [outR, outW] = pipe();
    const [errR, errW] = pipe();
    const pid = spawn({
      path: this.monitor,
      argv: [this.monitor, ...args],
      env: prepareEnv(this.monitorEnv, true),
      cwd: this.crioCwd,
      fds: { 0: "null", 1: outW, 2: errW, 3: childSync, 4: childStart },
    });
    for (const fd of [childSync, childStart, outW, errW]) closeQuietly(fd);
    const stdoutBuf = readToEnd(asFile(outR));
    const stderrBuf = readToEnd(asFile(errR));
    try {
      writeAll(parentStart, new Uint8Array([0]));
      const wait = await waitProcess(pid, 120_000, "the exec monitor");
      const dec = new TextDecoder();
      const monitorOut = dec.decode(await stdoutBuf) + dec.decode(await stderrBuf);
      let ec: Record<string, unknown> | undefined;
      let decodeErr: unknown;
      try {
        ec = await decodeOne(parentSync, 1000);
      } catch (err) {
        decodeErr = err;
      }
      if (ec?.exit_code === -1 && ec.message === "command timed out") {
        return { stdout: "", stderr: "command timed out", exitCode: -1, logBytes: 0 };
      }
      if (decodeErr !== undefined) {
        throw new ExecSyncError(`${decodeErr} (monitor ${JSON.stringify(wait)})`, monitorOut);
      }
      if (typeof ec!.exit_code !== "number") {
        throw new ExecSyncError(`no "exit_code" key in ${JSON.stringify(ec)}`, monitorOut);
      }
      if (ec!.exit_code === -1) throw new ExecSyncError(String(ec!.message), monitorOut);
      const logBytes = Deno.statSync(logPath).size;
      if (logBytes > MAX_EXEC_SYNC_SIZE) Deno.truncateSync(logPath, MAX_EXEC_SYNC_SIZE);
      const out = parseLog(Deno.readFileSync(logPath));
      return { ...out, exitCode: ec!.exit_code as number, logBytes };
    } finally {
      closeQuietly(parentSync);
      closeQuietly(parentStart);
      Deno.removeSync(tmp, { recursive: true });
    }
  }

  async close(): Promise<void> {
    this.#watcher.close();
    await this.#watching;
    // A monitor may still be writing its last files (a test that failed
    // midway): try again briefly rather than leave the directory behind.
    for (let i = 0;; i++) {
      try {
        Deno.removeSync(this.base, { recursive: true });
        return;
      } catch (err) {
        if (i >= 20) throw err;
        await sleep(100);
      }
    }
  }
}

/** A created container, as CRI-O keeps it. */
export class Container {
  monitorPid = 0;
  monitorStartTime = "";
  #exit: Promise<void>;

  constructor(
    readonly crio: Crio,
    readonly id: string,
    readonly name: string,
    readonly bundle: string,
    readonly dir: string,
    readonly logPath: string,
    readonly initPid: number,
  ) {
    this.#exit = crio.expectExit(id);
  }

  get terminal(): boolean {
    return JSON.parse(Deno.readTextFileSync(join(this.bundle, "config.json"))).process.terminal;
  }

  /**
   * internal/oci/runtime_oci.go (ReadConmonPidFile, getConmonProcess):
   * BUNDLE/conmon-pidfile through strconv.Atoi, no trimming; the monitor's
   * start time is recorded (getPidStartTime) to check its identity later.
   */
  readMonitorPid(): void {
    const text = Deno.readTextFileSync(join(this.bundle, "conmon-pidfile"));
    if (!/^[+-]?\d+$/.test(text)) throw new Error(`conmon-pidfile: Atoi fails on '${text}'`);
    this.monitorPid = Number(text);
    this.monitorStartTime = pidStartTime(this.monitorPid);
  }

  /** internal/oci/runtime_oci.go (IsContainerAlive/ProbeMonitor): the monitor is who it was. */
  monitorAlive(): boolean {
    try {
      return pidStartTime(this.monitorPid) === this.monitorStartTime;
    } catch {
      return false;
    }
  }

  /** internal/oci/runtime_oci.go (StartContainer): `runtime start ID`. */
  async start(): Promise<void> {
    const r = await this.crio.runtimeCmd("start", this.id);
    if (r.code !== 0) throw new Error(`runtime start failed: ${r.stderr}`);
  }

  /** internal/oci/runtime_oci.go (StopLoopForContainer): `runtime kill ID SIGNAL`. */
  async kill(signal: string): Promise<void> {
    const r = await this.crio.runtimeCmd("kill", this.id, signal);
    if (r.code !== 0) throw new Error(`runtime kill failed: ${r.stderr}`);
  }

  /**
   * StopLoopForContainer in short: the stop signal, then KILL once the
   * timeout passes without an exit.
   */
  async stop(signal: string, timeoutMs: number, ms = 30_000): Promise<ContainerExit> {
    await this.kill(signal);
    const exited = await Promise.race([this.#exit.then(() => true), sleep(timeoutMs)]);
    // CRI-O logs a failed KILL and goes on waiting (it may have exited meanwhile).
    if (!exited) await this.crio.runtimeCmd("kill", this.id, "KILL");
    return await this.waitExit(ms);
  }

  /**
   * server/server.go (handleExit) then internal/oci/runtime_oci.go
   * (UpdateContainerStatus, waitForExitFile, updateContainerStatusFromExitFile):
   * once EXITS/ID is created, `runtime state`; PERSIST/exit waited for with
   * backoff (500 ms, x1.2, 6 steps), read once and parsed with ParseInt (no
   * trimming), its mtime the finish time; BUNDLE/oom stat'ed once.
   */
  async waitExit(ms = 30_000): Promise<ContainerExit> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([
      this.#exit.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    if (!ok) throw new Error(`no Create event for exits/${this.id} within ${ms} ms`);
    await this.crio.runtimeCmd("state", this.id);
    const exitFile = join(this.dir, "exit");
    let delay = 500;
    for (let step = 0; step < 6 && readIfExists(exitFile) === undefined; step++) {
      await sleep(delay);
      delay *= 1.2;
    }
    const text = Deno.readTextFileSync(exitFile);
    if (!/^[+-]?\d+$/.test(text)) throw new Error(`PERSIST/exit: ParseInt fails on '${text}'`);
    const finished = Deno.statSync(exitFile).mtime!;
    let oomKilled = false;
    try {
      Deno.statSync(join(this.bundle, "oom"));
      oomKilled = true;
    } catch { /* not OOM-killed */ }
    // handleExit removes the exit file once handled.
    Deno.removeSync(join(this.crio.exitsDir, this.id));
    return { exitCode: Number(text), oomKilled, finished };
  }

  /**
   * internal/oci/runtime_oci.go (AttachContainer) and attach.go: SOCK_SEQPACKET
   * to SOCKDIR/ID/attach, reads of 8193 bytes whose first byte names the
   * stream (2 stdout, 3 stderr); stdin copied in, then CloseWrite. With
   * stdin and not stdin-once (and no tty) CRI-O returns once stdin is done.
   */
  async attach(
    input: string | undefined,
    opts: { returnAfterStdin?: boolean; until?: RegExp; ms?: number } = {},
  ): Promise<{ stdout: string; stderr: string }> {
    const fd = connectUnix(join(this.crio.attachSocketDir, this.id, "attach"), SOCK_SEQPACKET);
    let stdout = "", stderr = "";
    try {
      if (input !== undefined) {
        writeAll(fd, new TextEncoder().encode(input));
        shutdownSocket(fd, SHUT_WR);
        if (opts.returnAfterStdin) return { stdout, stderr };
      }
      setNonBlocking(fd);
      const buf = new Uint8Array(8193);
      const dec = new TextDecoder();
      const deadline = Date.now() + (opts.ms ?? 30_000);
      for (;;) {
        const n = recvSome(fd, buf);
        if (n === 0) break;
        if (n < 0) {
          if (Date.now() > deadline) {
            throw new Error(`attach: no end of output in time (so far '${stdout}${stderr}')`);
          }
          await sleep(10);
          continue;
        }
        const text = dec.decode(buf.subarray(1, n));
        if (buf[0] === 2) stdout += text;
        else if (buf[0] === 3) stderr += text;
        if (opts.until?.test(stdout + stderr)) break;
      }
    } finally {
      closeQuietly(fd);
    }
    return { stdout, stderr };
  }

  /** internal/oci/runtime_oci.go (AttachContainer's resize): `1 H W\n` to BUNDLE/ctl. */
  resize(height: number, width: number): void {
    this.writeCtl(`1 ${height} ${width}\n`);
  }

  writeCtl(line: string): void {
    const f = Deno.openSync(join(this.bundle, "ctl"), { write: true });
    try {
      f.writeSync(new TextEncoder().encode(line));
    } finally {
      f.close();
    }
  }

  /**
   * internal/oci/runtime_oci.go (ReopenContainerLog): fsnotify on the log's
   * directory, `2 0 0\n` to ctl, then a wait (CRI-O sets no limit; ours is
   * `ms`) for a Create or Write event naming the log path.
   */
  async reopenLog(ms: number): Promise<void> {
    const watcher = Deno.watchFs(dirname(this.logPath), { recursive: false });
    const seen = (async () => {
      for await (const ev of watcher) {
        if (!["create", "modify", "rename"].includes(ev.kind)) continue;
        if (ev.paths.includes(this.logPath)) return true;
      }
      return false;
    })();
    this.writeCtl("2 0 0\n");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([
      seen,
      new Promise<false>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    watcher.close();
    await seen;
    if (!ok) throw new Error(`no Create or Write event for ${this.logPath} within ${ms} ms`);
  }

  /** Removes the container from the runtime (CRI-O's DeleteContainer: `runtime delete --force`). */
  async remove(): Promise<void> {
    await this.crio.runtimeCmd("delete", "--force", this.id);
  }
}

/** Field 22 of /proc/PID/stat (CRI-O's getPidStartTime). */
function pidStartTime(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

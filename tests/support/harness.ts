/**
 * Drives ocimon the way podman and CRI-O drive conmon: the sync pipe's write
 * end as _OCI_SYNCPIPE, optionally a start pipe, `--api-version 1`,
 * daemonized; then reads the sync pipe, runs `runtime start` itself and waits
 * for the exit file.
 *
 * @module
 */
import { join } from "node:path";
import { closeQuietly, pipe } from "../../src/sys/fd.ts";
import { spawn } from "../../src/sys/spawn.ts";
import { tryWait, type WaitResult } from "../../src/sys/process.ts";
import { type BundleOptions, makeBundle } from "./bundle.ts";
import { OCIMON_BIN, RUNTIME, tempDir } from "./env.ts";

export { exists } from "../../src/util/fs.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 10 ms until it returns a value or `ms` passes. */
export async function waitFor<T>(fn: () => T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function readIfExists(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

export interface RunOptions {
  stdin?: string;
  /** The whole environment (replaces ours). */
  env?: Record<string, string>;
  cwd?: string;
  /** SIGKILL the command after this long (default 5 minutes: every wait ends). */
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as it came, for output that is not text. */
  bytes: Uint8Array;
}

/** Runs a command to completion (not ocimon: Deno.Command is fine here). */
export async function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const c = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: opts.env !== undefined,
  });
  const child = c.spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
  try {
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(opts.stdin));
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      bytes: out.stdout,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long a test waits for a sync pipe message: a bound, not a speed check.
 * Under TCG (the VM lanes) on a busy 2-core machine a create can take well
 * over 10 s.
 */
const SYNC_WAIT_MS = Deno.env.get("OCIMON_VM_GUEST") ? 45_000 : 10_000;

/** Reads newline-terminated JSON messages from a pipe's read end. */
class MessageReader {
  #file: Deno.FsFile;
  #buf = "";
  constructor(fd: number) {
    // A pipe can be reopened through /proc: gives Deno an async handle on it.
    this.#file = Deno.openSync(`/proc/self/fd/${fd}`, { read: true });
    closeQuietly(fd);
  }
  async next(ms = SYNC_WAIT_MS): Promise<Record<string, unknown> | null> {
    const deadline = Date.now() + ms;
    const chunk = new Uint8Array(65536);
    while (!this.#buf.includes("\n")) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a sync pipe message");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.#file.read(chunk),
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (n === "timeout") throw new Error("timed out waiting for a sync pipe message");
      if (n === null) return null;
      this.#buf += new TextDecoder().decode(chunk.subarray(0, n));
    }
    const i = this.#buf.indexOf("\n");
    const line = this.#buf.slice(0, i);
    this.#buf = this.#buf.slice(i + 1);
    return JSON.parse(line);
  }
  close() {
    try {
      this.#file.close();
    } catch { /* closed */ }
  }
}

export interface MonitorOptions extends Partial<BundleOptions> {
  name?: string;
  /** Extra ocimon arguments. */
  extra?: string[];
  /** Drop these default arguments (to test what happens without them). */
  drop?: string[];
  /** Give ocimon a start pipe and hold it until release() (default false). */
  startPipe?: boolean;
  /** The monitor binary (default OCIMON_BIN; the benchmarks pass conmon). */
  bin?: string;
  /** Return without waiting for the launcher (for --sync). */
  noWait?: boolean;
  /** Do not create a bundle; use this one. */
  bundle?: string;
  /** Base directory (shared rootfs) for the bundle. */
  base?: string;
  /** Directories to make in the bundle first (as podman makes BUNDLE/notify). */
  mkdirs?: string[];
  /**
   * Our fds to give the monitor as its 3, 4, ... (podman's preserved fds);
   * the sync and start pipes then follow them, as podman numbers them.
   */
  preserved?: number[];
  /** Variables to add to the monitor's environment (systemd's LISTEN_FDS, …). */
  monitorEnv?: Record<string, string>;
}

export class MonitoredContainer {
  constructor(
    readonly dir: string,
    readonly cid: string,
    readonly bundle: string,
    readonly sync: MessageReader,
    readonly launcherPid: number,
    readonly startWriter: number | undefined,
    readonly errFile: Deno.FsFile,
  ) {}

  launcher!: WaitResult;
  launcherStderr = "";

  /** Waits for the process we started (the launcher, or the monitor with --sync). */
  async waitLauncher(ms = 30_000): Promise<WaitResult> {
    this.launcher = await waitFor(() => tryWait(this.launcherPid), ms, "the launcher to exit");
    this.launcherStderr = new TextDecoder().decode(await readToEnd(this.errFile));
    return this.launcher;
  }

  get exitDir() {
    return join(this.dir, "exits");
  }
  get persistDir() {
    return join(this.dir, "persist");
  }
  get statusFile() {
    return join(this.dir, "status.json");
  }
  get logPath() {
    return join(this.dir, "ctr.log");
  }
  get conmonPidfile() {
    return join(this.dir, "conmon.pid");
  }
  get containerPidfile() {
    return join(this.dir, "pidfile");
  }

  /** `runtime start CID`, as podman does after reading the pid. */
  async start(): Promise<void> {
    const r = await run([RUNTIME, "start", this.cid]);
    if (r.code !== 0) throw new Error(`${RUNTIME} start failed: ${r.stderr}`);
  }

  /** The exit file's content, once ocimon has written it. */
  exitCode(ms = 30_000): Promise<string> {
    return waitFor(
      () => readIfExists(join(this.exitDir, this.cid)),
      ms,
      `exit file of ${this.cid}`,
    );
  }

  status(): Record<string, any> {
    return JSON.parse(Deno.readTextFileSync(this.statusFile));
  }

  log(): string {
    return readIfExists(this.logPath) ?? "";
  }

  monitorPid(): number {
    return Number(Deno.readTextFileSync(this.conmonPidfile));
  }

  /** Removes the container and the test's files. */
  async cleanup(): Promise<void> {
    this.sync.close();
    closeQuietly(this.startWriter);
    await run([RUNTIME, "delete", "--force", this.cid]);
    Deno.removeSync(this.dir, { recursive: true });
  }
}

/** Ends the launcher's wait on the start pipe. */
export function releaseStartPipe(c: MonitoredContainer): void {
  Deno.openSync(`/proc/self/fd/${c.startWriter}`, { write: true }).writeSync(new Uint8Array([0]));
}

let seq = 0;

/** Launches ocimon as podman would and waits for the launcher to return. */
export async function launchMonitor(opts: MonitorOptions): Promise<MonitoredContainer> {
  const dir = tempDir(opts.name ?? "ctr");
  const cid = `${opts.name ?? "ctr"}-${Deno.pid}-${++seq}`;
  const bundle = opts.bundle ??
    makeBundle(opts.base ?? dir, cid, {
      args: opts.args ?? ["true"],
      ...opts,
      cgroupsPath: opts.cgroupsPath ?? `/ocimon-test/${cid}`,
    });
  Deno.mkdirSync(join(dir, "exits"));
  for (const d of opts.mkdirs ?? []) Deno.mkdirSync(join(bundle, d), { recursive: true });
  Deno.mkdirSync(join(dir, "persist")); // podman creates it; conmon requires it
  // The attach socket's link goes here, not to conmon's default /var/run/crio:
  // conmon exits 1 where that does not exist yet (a fresh machine), and a test
  // must not depend on what an earlier one left behind.
  Deno.mkdirSync(join(dir, "sockets"));
  const defaults: [string, string | undefined][] = [
    ["--api-version", "1"],
    ["--cid", cid],
    ["--cuuid", cid],
    ["--name", cid],
    ["--runtime", RUNTIME],
    ["--bundle", bundle],
    ["--container-pidfile", join(dir, "pidfile")],
    ["--conmon-pidfile", join(dir, "conmon.pid")],
    ["--exit-dir", join(dir, "exits")],
    ["--persist-dir", join(dir, "persist")],
    ["--socket-dir-path", join(dir, "sockets")],
    ["--log-path", `k8s-file:${join(dir, "ctr.log")}`],
    ["--status-file", join(dir, "status.json")],
  ];
  const args = defaults
    .filter(([k]) => !(opts.drop ?? []).includes(k))
    .flatMap(([k, v]) => (v === undefined ? [k] : [k, v]));
  args.push(...(opts.extra ?? []));

  const [syncR, syncW] = pipe();
  const [errR, errW] = pipe();
  let startR: number | undefined, startW: number | undefined;
  if (opts.startPipe) [startR, startW] = pipe();
  const env = Object.entries({ ...Deno.env.toObject(), ...opts.monitorEnv }).map(([k, v]) =>
    `${k}=${v}`
  );
  const preserved = opts.preserved ?? [];
  const syncFd = 3 + preserved.length;
  env.push(`_OCI_SYNCPIPE=${syncFd}`);
  if (startR !== undefined) env.push(`_OCI_STARTPIPE=${syncFd + 1}`);
  const fds: Record<number, number | "null"> = { 0: "null", 1: errW, 2: errW, [syncFd]: syncW };
  preserved.forEach((fd, i) => (fds[3 + i] = fd));
  if (startR !== undefined) fds[syncFd + 1] = startR;
  const bin = opts.bin ?? OCIMON_BIN;
  const pid = spawn({
    path: bin,
    argv: [bin, ...args],
    env,
    cwd: bundle, // as a caller should: conmon writes its oom file to its working directory
    fds,
  });
  closeQuietly(syncW);
  closeQuietly(errW);
  closeQuietly(startR);
  const errFile = Deno.openSync(`/proc/self/fd/${errR}`, { read: true });
  closeQuietly(errR);
  const sync = new MessageReader(syncR);
  if (opts.startPipe) {
    // The launcher must still be blocked on the start pipe.
    await sleep(300);
    if (tryWait(pid)) throw new Error("launcher did not wait for the start pipe");
    Deno.openSync(`/proc/self/fd/${startW}`, { write: true }).writeSync(new Uint8Array([0]));
  }
  const c = new MonitoredContainer(dir, cid, bundle, sync, pid, startW, errFile);
  if (!opts.noWait) await c.waitLauncher();
  return c;
}

/** Reads `f` to its end, then closes it. */
export async function readToEnd(f: Deno.FsFile): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  try {
    for (let n; (n = await f.read(buf)) !== null;) parts.push(buf.slice(0, n));
  } finally {
    f.close();
  }
  return concat(parts);
}

/** The byte strings one after the other. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/**
 * True while `pid` runs. A zombie counts as gone: this machine's init reaps
 * its adopted zombies only about once a second.
 */
/** Removes a cgroup directory as soon as it is empty (rmdir fails until then). */
export async function removeWhenEmpty(dir: string, ms: number, what: string): Promise<void> {
  await waitFor(
    () => {
      try {
        Deno.removeSync(dir);
        return true;
      } catch {
        return undefined;
      }
    },
    ms,
    what,
  );
}

export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `needle` (other than us). */
export function processesMentioning(needle: string): { pid: number; state: string; cmd: string }[] {
  const out = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (cmd.includes(needle)) out.push({ pid: Number(e.name), state, cmd });
    } catch { /* gone */ }
  }
  return out;
}

/** Zombie processes on the machine whose parent is `ppid` (or any). */
export function zombies(): { pid: number; ppid: number; comm: string }[] {
  const out = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const r = stat.lastIndexOf(")");
      const fields = stat.slice(r + 2).split(" ");
      if (fields[0] === "Z") {
        out.push({
          pid: Number(e.name),
          ppid: Number(fields[1]),
          comm: stat.slice(stat.indexOf("(") + 1, r),
        });
      }
    } catch { /* gone */ }
  }
  return out;
}

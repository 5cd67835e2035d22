/**
 * posix_spawn(3) for processes ocimon must reap itself. Deno.Command would
 * install its own SIGCHLD machinery and race our waitpid(-1) for statuses, so
 * every child of ocimon is started here and reaped by the Reaper.
 *
 * @module
 */
import {
  check,
  cstr,
  cstrVector,
  F_DUPFD_CLOEXEC,
  libc,
  O_RDONLY,
  O_WRONLY,
  SIGKILL,
  SIGSTOP,
  SysError,
} from "./libc.ts";

const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const NSIG = 65;

export interface SpawnOptions {
  /** Program path; resolved by the caller (no PATH search here). */
  path: string;
  /** Full argv, argv[0] included. */
  argv: readonly string[];
  /** Environment as `KEY=value` strings. */
  env: readonly string[];
  /** Working directory of the child. */
  cwd?: string;
  /**
   * Descriptors of the child, by number: the parent fd to install there, or
   * "null" for /dev/null. Unlisted 0..2 are inherited as they are.
   */
  fds?: Record<number, number | "null">;
  /** Start a new session (setsid) in the child. */
  setsid?: boolean;
  /** Put the child in a new process group of its own (setpgid(0, 0)). */
  newProcessGroup?: boolean;
}

/**
 * Starts a process and returns its pid. Signal dispositions are reset to
 * default and the mask cleared in the child, so it does not inherit the
 * SIGPIPE-ignore of Deno's runtime. Descriptors not listed keep their
 * close-on-exec flag, so only what is listed (and inherited fds without
 * FD_CLOEXEC) reaches the child.
 */
export function spawn(opts: SpawnOptions): number {
  const fds = opts.fds ?? {};
  // A source that is also a target number could be overwritten before it is
  // used (or, if it is its own target, keep FD_CLOEXEC): move it out of the way.
  const moved: number[] = [];
  const targets = new Set(Object.keys(fds).map(Number));
  const plan: [number, number | "null"][] = Object.entries(fds).map(([t, src]) => {
    if (src !== "null" && targets.has(src)) {
      const copy = check(libc.fcntl(src, F_DUPFD_CLOEXEC, 64n), "fcntl(F_DUPFD_CLOEXEC)");
      moved.push(copy);
      return [Number(t), copy];
    }
    return [Number(t), src];
  });
  try {
    return spawnPlanned(opts, plan);
  } finally {
    for (const fd of moved) libc.close(fd);
  }
}

function spawnPlanned(opts: SpawnOptions, plan: [number, number | "null"][]): number {
  const actions = new Uint8Array(80);
  const keep: Uint8Array[] = [];
  libc.posix_spawn_file_actions_init(actions);
  try {
    if (opts.cwd) {
      const dir = cstr(opts.cwd);
      keep.push(dir);
      ok(libc.posix_spawn_file_actions_addchdir_np(actions, dir), "addchdir");
    }
    for (const [fd, src] of plan) {
      if (src === "null") {
        const devnull = cstr("/dev/null");
        keep.push(devnull);
        const mode = fd === 0 ? O_RDONLY : O_WRONLY;
        ok(
          libc.posix_spawn_file_actions_addopen(actions, fd, devnull, mode, 0),
          "addopen",
        );
      } else {
        ok(libc.posix_spawn_file_actions_adddup2(actions, src, fd), "adddup2");
      }
    }
    const flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
      (opts.setsid ? POSIX_SPAWN_SETSID : 0) |
      (opts.newProcessGroup ? POSIX_SPAWN_SETPGROUP : 0);
    const attr = spawnAttr(flags, 0, ALL_CATCHABLE_SIGNALS, sigset([]));

    const path = cstr(opts.path);
    const argv = cstrVector(opts.argv);
    const envp = cstrVector(opts.env);
    const pid = new Int32Array(1);
    const rc = libc.posix_spawn(
      pid,
      path,
      actions,
      attr,
      new Uint8Array(argv.vec.buffer),
      new Uint8Array(envp.vec.buffer),
    );
    if (rc !== 0) throw new SysError("posix_spawn", rc, opts.path);
    return pid[0];
  } finally {
    libc.posix_spawn_file_actions_destroy(actions);
  }
}

/**
 * A glibc `posix_spawnattr_t`, filled here as posix_spawnattr_init (zeroes),
 * _setflags, _setpgroup, _setsigdefault and _setsigmask fill it, and as
 * _destroy leaves it (it frees nothing): each of those is a symbol bound
 * through FFI, ~0.4 ms apiece under load, on the path of every start. The
 * layout is glibc's ABI on x86_64 and aarch64 (little-endian): short flags at
 * 0, pid_t pgroup at 4, the default-signals set at 8, the mask at 136, then
 * the scheduling fields and padding, 336 bytes in all.
 */
export function spawnAttr(
  flags: number,
  pgroup: number,
  sigdefault: Uint8Array,
  sigmask: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const attr = new Uint8Array(336);
  const view = new DataView(attr.buffer);
  view.setInt16(0, flags, true);
  view.setInt32(4, pgroup, true);
  attr.set(sigdefault, 8);
  attr.set(sigmask, 136);
  return attr;
}

/**
 * A glibc `sigset_t` holding `signals`, built here rather than through
 * sigemptyset/sigaddset: 1024 bits, signal n at bit n-1 of little-endian
 * words (x86_64 and aarch64, the targets Deno ships for).
 */
export function sigset(signals: Iterable<number>): Uint8Array<ArrayBuffer> {
  const set = new Uint8Array(128);
  for (const s of signals) set[(s - 1) >> 3] |= 1 << ((s - 1) & 7);
  return set;
}

/** Every signal but SIGKILL, SIGSTOP and glibc's own two (32, 33), as sigfillset. */
const ALL_CATCHABLE_SIGNALS = sigset(
  Array.from({ length: NSIG - 1 }, (_, i) => i + 1)
    .filter((s) => s !== SIGKILL && s !== SIGSTOP && s !== 32 && s !== 33),
);

function ok(rc: number, what: string): void {
  if (rc !== 0) throw new SysError(`posix_spawn_${what}`, rc);
}

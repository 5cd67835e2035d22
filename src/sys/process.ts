/**
 * Process-wide kernel settings: subreaper, session, OOM score, signals.
 *
 * @module
 */
import { check, ECHILD, EINTR, errno, libc, SysError } from "./libc.ts";

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;
const __WALL = 0x40000000;

/** Makes orphaned descendants reparent to this process instead of init (or stop it). */
export function becomeSubreaper(on = true): void {
  check(
    libc.prctl(PR_SET_CHILD_SUBREAPER, on ? 1n : 0n, 0n, 0n, 0n),
    "prctl(PR_SET_CHILD_SUBREAPER)",
  );
}

/** Process group of `pid`, or -1 if it is gone. */
export function getpgid(pid: number): number {
  return libc.getpgid(pid);
}

export function setsid(): void {
  // EPERM means we already lead a session (e.g. spawned with setsid): fine.
  libc.setsid();
}

export function getpid(): number {
  return libc.getpid();
}

/** Sends a signal; false when the process is gone. */
export function kill(pid: number, signo: number): boolean {
  return libc.kill(pid, signo) === 0;
}

/** How a reaped process ended. */
export interface WaitResult {
  pid: number;
  /** Exit code, or 128 + signal number for a killed process (shell style). */
  code: number;
  /** Terminating signal number, 0 when the process exited. */
  signal: number;
}

/**
 * Reaps one exited child without blocking. Returns undefined when none has
 * exited, null when there are no children at all.
 */
export function reapOne(): WaitResult | undefined | null {
  const status = new Int32Array(1);
  for (;;) {
    const pid = libc.waitpid(-1, status, WNOHANG | __WALL);
    if (pid > 0) return decodeWaitStatus(pid, status[0]);
    if (pid === 0) return undefined;
    const e = errno();
    if (e === EINTR) continue;
    if (e === ECHILD) return null;
    throw new SysError("waitpid", e);
  }
}

/** Decodes a waitpid(2) status word. */
export function decodeWaitStatus(pid: number, status: number): WaitResult {
  const termsig = status & 0x7f;
  if (termsig === 0) return { pid, code: (status >> 8) & 0xff, signal: 0 };
  return { pid, code: 128 + termsig, signal: termsig };
}

const SIGNAL_NAMES: Record<number, Deno.Signal> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  10: "SIGUSR1",
  11: "SIGSEGV",
  12: "SIGUSR2",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
  16: "SIGSTKFLT",
  17: "SIGCHLD",
  18: "SIGCONT",
  19: "SIGSTOP",
  20: "SIGTSTP",
  21: "SIGTTIN",
  22: "SIGTTOU",
  23: "SIGURG",
  24: "SIGXCPU",
  25: "SIGXFSZ",
  26: "SIGVTALRM",
  27: "SIGPROF",
  28: "SIGWINCH",
  29: "SIGIO",
  30: "SIGPWR",
  31: "SIGSYS",
};

/** "SIGKILL" for 9; real-time signals as "SIGRTMIN+N". */
export function signalName(signo: number): string {
  if (SIGNAL_NAMES[signo]) return SIGNAL_NAMES[signo];
  if (signo >= 34 && signo <= 64) return `SIGRTMIN+${signo - 34}`;
  return `SIG${signo}`;
}

/** Reads this process's oom_score_adj. */
export function getOomScoreAdj(): string {
  return Deno.readTextFileSync("/proc/self/oom_score_adj").trim();
}

/**
 * Sets this process's oom_score_adj. Returns false when the kernel refuses
 * (lowering needs CAP_SYS_RESOURCE; conmon ignores that too).
 */
export function setOomScoreAdj(value: string): boolean {
  try {
    Deno.writeTextFileSync("/proc/self/oom_score_adj", value);
    return true;
  } catch {
    return false;
  }
}

/** Reaps `pid` if it has exited; undefined while it runs. */
export function tryWait(pid: number): WaitResult | undefined {
  const status = new Int32Array(1);
  for (;;) {
    const r = libc.waitpid(pid, status, WNOHANG | __WALL);
    if (r === pid) return decodeWaitStatus(pid, status[0]);
    if (r === 0) return undefined;
    const e = errno();
    if (e === EINTR) continue;
    throw new SysError("waitpid", e, `pid ${pid}`);
  }
}

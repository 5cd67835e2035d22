/**
 * The child subreaper. Every process ocimon starts, and every orphan of the
 * container (the runtime's intermediate processes, the container init once
 * `runtime create` exits), is reaped here, so none is left a zombie.
 *
 * Statuses are kept by pid: the container's init may exit before anyone asks
 * about it, and its status must still be there when asked.
 *
 * Signals to our children go through here too: once a pid is reaped the
 * kernel may give its number to a new process, anyone's, so a reaped pid is
 * never signalled again (conmon forgets its container's pid at the reap for
 * the same reason). Until we reap it, an exited child is a zombie that still
 * holds its number, so a signal then reaches no one else.
 *
 * @module
 */
import { becomeSubreaper, getpgid, kill, reapOne, type WaitResult } from "../sys/process.ts";
import { every, sleep, type Timer } from "../util/timer.ts";

export class ChildReaper {
  #exited = new Map<number, WaitResult>();
  #waiters = new Map<number, ((r: WaitResult) => void)[]>();
  #onSignal = () => this.reap();
  #listening = false;
  /**
   * While someone waits, a slow timer also reaps: it keeps the event loop
   * alive (signal listeners do not) and is a backstop should a SIGCHLD ever
   * be coalesced away.
   */
  #backstop: Timer | undefined;

  /** Becomes subreaper and reaps on every SIGCHLD from now on. */
  start(): this {
    becomeSubreaper();
    Deno.addSignalListener("SIGCHLD", this.#onSignal);
    this.#listening = true;
    this.reap(); // anything that ended before the listener was in place
    return this;
  }

  /** Stops listening for SIGCHLD (lets the event loop finish). */
  stop(): void {
    if (this.#listening) Deno.removeSignalListener("SIGCHLD", this.#onSignal);
    this.#listening = false;
  }

  /** Reaps every child that has exited; returns true if none are left at all. */
  reap(): boolean {
    for (;;) {
      const r = reapOne();
      if (r === null) return true;
      if (r === undefined) return false;
      this.#exited.set(r.pid, r);
      const waiters = this.#waiters.get(r.pid);
      if (waiters) {
        this.#waiters.delete(r.pid);
        for (const w of waiters) w(r);
        this.#updateBackstop();
      }
    }
  }

  #updateBackstop(): void {
    if (this.#waiters.size > 0 && this.#backstop === undefined) {
      this.#backstop = every(250, () => this.reap());
    } else if (this.#waiters.size === 0 && this.#backstop !== undefined) {
      this.#backstop.cancel();
      this.#backstop = undefined;
    }
  }

  /** The status of `pid` if it has already been reaped. */
  status(pid: number): WaitResult | undefined {
    return this.#exited.get(pid);
  }

  /**
   * Says that a child we have just started holds `pid`: a status kept for an
   * earlier process of that number (the kernel reuses numbers) is stale, and
   * must answer neither wait() nor signal().
   */
  started(pid: number): number {
    this.#exited.delete(pid);
    return pid;
  }

  /**
   * Sends `signo` to `pid`, unless `pid` has been reaped (its number may be
   * another process's by now). False when nothing was sent.
   */
  signal(pid: number, signo: number): boolean {
    if (pid <= 0 || this.#exited.has(pid)) return false;
    return kill(pid, signo);
  }

  /**
   * Sends `signo` to the process group of `pid` (`pid` alone where that
   * group is unknown or init's); never once `pid` has been reaped.
   */
  signalGroup(pid: number, signo: number): boolean {
    if (pid <= 0 || this.#exited.has(pid)) return false;
    const pgid = getpgid(pid);
    return kill(pgid > 1 ? -pgid : pid, signo);
  }

  /** Resolves when `pid` has been reaped. */
  wait(pid: number): Promise<WaitResult> {
    const done = this.#exited.get(pid);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const list = this.#waiters.get(pid) ?? [];
      list.push(resolve);
      this.#waiters.set(pid, list);
      this.#updateBackstop();
    });
  }

  /**
   * Reaps until no child is left or `timeoutMs` passes. Used on the way out
   * so that nothing ocimon started outlives it as a zombie. Returns true when
   * no child remains.
   */
  async reapRemaining(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.reap()) {
      if (Date.now() >= deadline) return false;
      await sleep(10);
    }
    return true;
  }
}

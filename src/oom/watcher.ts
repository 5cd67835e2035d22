/**
 * Watches a container's memory cgroup for OOM kills and gives the verdict.
 *
 * The verdict comes from the kernel's `oom_kill` counter only: OOMKilled is
 * true exactly when the counter grew during the container's life. Events
 * (inotify on v2 `memory.events`, eventfd on v1 `memory.oom_control`) only
 * make us look sooner, so the `oom` files appear while the container still
 * runs; the final read at exit is what makes a missed event impossible. The
 * kernel bumps the counter before it delivers SIGKILL, so by the time the
 * container is reaped the counter already tells the truth.
 *
 * Only the container's own cgroup counts. Under systemd the empty scope can
 * be gone by the final read; then the verdict is what was last read, and
 * says that the final read was missed (the kernel's OOM reports, read by
 * the exit phase, may still name the cgroup). An ancestor's counter is never
 * used: it also counts every sibling's kills.
 *
 * On v1 the eventfd is signalled when the memory cgroup goes OOM, before the
 * OOM killer has picked and counted its victim: a read at once may find the
 * counter unchanged, and no second event comes for the kill. So an event that
 * shows no new kill is followed by a few later looks (FOLLOW_UP_MS).
 *
 * @module
 */
import { closeQuietly, openRaw } from "../sys/fd.ts";
import { ENOENT, libc, O_CLOEXEC, O_RDONLY, O_WRONLY, SysError } from "../sys/libc.ts";
import { drainEvents, eventFd, inotifyWatch } from "../sys/notify.ts";
import type { Poller } from "../sys/poller.ts";
import type { MemoryCgroup } from "../cgroup/paths.ts";
import { type OomCounters, readOomCounters, readOomKill } from "../cgroup/memory_files.ts";
import { diag } from "../diag.ts";
import { after, type Timer } from "../util/timer.ts";

export interface OomVerdict {
  oomKilled: boolean;
  /** How many processes the kernel OOM-killed in the container's cgroup. */
  oomKillCount: number;
  /**
   * Where the count came from: the cgroup's own counter at the final read;
   * the kernel's OOM reports naming the cgroup ("kmsg"); systemd's journal
   * record of a kill in the container's own unit, where the kernel's reports
   * cannot be read ("systemd"); the last value read while the cgroup lived
   * ("last-seen"); or nowhere (no memory controller).
   */
  source: "cgroup" | "kmsg" | "systemd" | "last-seen" | "none";
  /** Whether the final read, after the reap, found the cgroup's counters. */
  finalRead: boolean;
  /** The counters at the final read (null when it was missed). */
  counters: OomCounters | null;
}

/** When to look again after an event that showed no new kill (ms after the event). */
const FOLLOW_UP_MS = [5, 25, 100, 400, 1500];

export class OomWatcher {
  readonly #cg: MemoryCgroup;
  readonly #baseline: number;
  #last: number;
  #fds: number[] = [];
  #poller: Poller | undefined;
  #onOom: ((count: number) => void) | undefined;
  #followUps: Timer[] = [];

  private constructor(cg: MemoryCgroup, baseline: number) {
    this.#cg = cg;
    this.#baseline = baseline;
    this.#last = baseline;
  }

  /**
   * Reads the baseline counter of `cg`. Returns undefined when the cgroup has
   * no readable counter (no memory controller there).
   */
  static open(cg: MemoryCgroup): OomWatcher | undefined {
    const baseline = readOomKill(cg.dir, cg.version);
    return baseline === undefined ? undefined : new OomWatcher(cg, baseline);
  }

  get cgroup(): MemoryCgroup {
    return this.#cg;
  }

  /** Count of OOM kills seen so far during the container's life. */
  get seen(): number {
    return this.#last - this.#baseline;
  }

  /**
   * Starts watching; `onOom` is called (with the kill count) each time the
   * counter is seen to grow. Watching is an optimisation: if the kernel
   * interface cannot be set up, the final check still decides.
   */
  watch(poller: Poller, onOom: (count: number) => void): void {
    this.#poller = poller;
    this.#onOom = onOom;
    try {
      const fd = this.#cg.version === 2 ? this.#watchV2() : this.#watchV1();
      this.#fds.push(fd);
      poller.add(fd, () => {
        drainEvents(fd);
        if (!this.#check()) this.#followUp();
        return true;
      });
    } catch (err) {
      // A v2 cgroup without memory.events (gone, or no memory controller
      // there) is not an error, as conmon 2.2 has it: nothing to watch.
      if (!(err instanceof SysError && err.code === ENOENT)) {
        diag(`OOM events unavailable (${err}); checking at exit only`);
      }
    }
    this.#check(); // a kill between the baseline and the watch
  }

  #watchV2(): number {
    return inotifyWatch(`${this.#cg.dir}/memory.events`);
  }

  /** v1: register an eventfd for memory.oom_control through cgroup.event_control. */
  #watchV1(): number {
    const efd = eventFd();
    let ctl = -1;
    let oomFd = -1;
    try {
      oomFd = openRaw(`${this.#cg.dir}/memory.oom_control`, O_RDONLY | O_CLOEXEC);
      ctl = openRaw(`${this.#cg.dir}/cgroup.event_control`, O_WRONLY | O_CLOEXEC);
      const msg = new TextEncoder().encode(`${efd} ${oomFd}`);
      if (libc.write(ctl, msg, BigInt(msg.length)) < 0) {
        throw new Error(`cannot register with ${this.#cg.dir}/cgroup.event_control`);
      }
    } catch (err) {
      closeQuietly(efd);
      throw err;
    } finally {
      closeQuietly(ctl);
      // The kernel holds its own reference to the control file once registered.
      closeQuietly(oomFd);
    }
    return efd;
  }

  /** Reads the counter; true if it grew since the last look. */
  #check(): boolean {
    const now = readOomKill(this.#cg.dir, this.#cg.version);
    if (now === undefined || now <= this.#last) return false;
    this.#last = now;
    this.#onOom?.(this.seen);
    return true;
  }

  /** Looks again a few times after an event that came before its kill was counted. */
  #followUp(): void {
    this.#cancelFollowUps();
    this.#followUps = FOLLOW_UP_MS.map((ms) =>
      after(ms, () => {
        if (this.#check()) this.#cancelFollowUps();
      })
    );
  }

  #cancelFollowUps(): void {
    this.#followUps.forEach((t) => t.cancel());
    this.#followUps = [];
  }

  /**
   * The final verdict, taken after the container has exited and been reaped:
   * the counters read once more, or, if the cgroup is gone, the last value
   * seen while it lived.
   */
  verdict(): OomVerdict {
    const counters = readOomCounters(this.#cg.dir, this.#cg.version);
    const now = counters?.oomKill;
    if (counters === undefined || now === undefined) {
      return { ...this.#count(), source: "last-seen", finalRead: false, counters: null };
    }
    if (now > this.#last) this.#last = now;
    return { ...this.#count(), source: "cgroup", finalRead: true, counters };
  }

  #count(): Pick<OomVerdict, "oomKilled" | "oomKillCount"> {
    return { oomKilled: this.seen > 0, oomKillCount: this.seen };
  }

  /** Stops watching and closes the event descriptors. */
  close(): void {
    this.#cancelFollowUps();
    for (const fd of this.#fds) {
      this.#poller?.remove(fd);
      closeQuietly(fd);
    }
    this.#fds = [];
  }
}

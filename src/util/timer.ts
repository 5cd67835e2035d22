/**
 * Timers without setTimeout. Deno's global setTimeout and setInterval are
 * Node's (node:timers, loaded on first use), and that first use costs every
 * monitor about 1.5 MB of private memory for its whole life and some 15 ms
 * of CPU (measured under load, docs/benchmarks.md). AbortSignal.timeout runs
 * on Deno's own timers: a listener on the signal keeps the process alive as a
 * pending setTimeout does, and once the listener is removed (cancel) the
 * timer still pending underneath no longer holds the process.
 *
 * @module
 */

/** A pending callback; cancel() makes sure it does not run. */
export interface Timer {
  cancel(): void;
}

/** The delay as AbortSignal.timeout takes it: a whole number of ms, not negative. */
function delay(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : 0;
}

/** Runs `fn` once, `ms` from now, unless cancelled first. */
export function after(ms: number, fn: () => void): Timer {
  const signal = AbortSignal.timeout(delay(ms));
  let live = true;
  const onAbort = () => {
    if (!live) return;
    live = false;
    fn();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  return {
    cancel() {
      live = false;
      signal.removeEventListener("abort", onAbort);
    },
  };
}

/** Runs `fn` every `ms` until cancelled. */
export function every(ms: number, fn: () => void): Timer {
  let current: Timer;
  const tick = () => {
    current = after(ms, tick);
    fn();
  };
  current = after(ms, tick);
  return { cancel: () => current.cancel() };
}

/** Resolves `ms` from now. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => after(ms, resolve));
}

/**
 * The two monitors the bench compares, and the one way it runs them: in
 * alternation, A B, then B A, round after round, so that a machine that
 * drifts over a run drifts for both alike.
 *
 * @module
 */
import { CONMON, OCIMON_BIN } from "../../tests/support/env.ts";

export const MONITORS = [
  { name: "ocimon", bin: OCIMON_BIN },
  { name: "conmon", bin: CONMON },
] as const;
export type Monitor = typeof MONITORS[number];
export type MonitorName = Monitor["name"];
/** One value per monitor. */
export type PerMonitor<T> = Record<MonitorName, T>;

/**
 * Runs `fn` for each monitor, `rounds` rounds, in the order ocimon, conmon
 * in even rounds and conmon, ocimon in odd ones; what `fn` returns is one
 * sample of that monitor (undefined: none, as when a run failed).
 */
export async function alternate<T>(
  rounds: number,
  fn: (m: Monitor, round: number) => Promise<T | undefined>,
): Promise<PerMonitor<T[]>> {
  const samples: PerMonitor<T[]> = { ocimon: [], conmon: [] };
  for (let i = 0; i < rounds; i++) {
    for (const m of i % 2 ? [...MONITORS].reverse() : MONITORS) {
      const v = await fn(m, i);
      if (v !== undefined) samples[m.name].push(v);
    }
  }
  return samples;
}

/** `f` of each sample, per monitor: one figure out of samples that hold several. */
export function pick<T>(s: PerMonitor<T[]>, f: (x: T) => number): PerMonitor<number[]> {
  return { ocimon: s.ocimon.map(f), conmon: s.conmon.map(f) };
}

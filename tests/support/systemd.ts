/**
 * systemd units from the tests' side (tests/systemd, under systemd as PID 1).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureRootfs } from "./bundle.ts";
import { exists, run, sleep } from "./harness.ts";

/**
 * busybox in `base`, ready for the host's /usr mounted read-only on its /usr
 * (for systemd-notify: its libraries found through lib -> usr/lib, as on a
 * merged-/usr host). Returns the rootfs.
 */
export function rootfsForHostUsr(base: string): string {
  const rootfs = ensureRootfs(base);
  for (const l of ["lib", "lib64"]) Deno.symlinkSync(`usr/${l}`, join(rootfs, l));
  Deno.mkdirSync(join(rootfs, "usr"));
  return rootfs;
}

/** One property of a unit (`systemctl show -p PROP --value`). */
export async function unitProperty(unit: string, prop: string): Promise<string> {
  const r = await run(["systemctl", "show", "-p", prop, "--value", unit], { timeoutMs: 60_000 });
  return r.stdout.trim();
}

/**
 * Watches a Type=notify unit whose container touches `mark` just before it
 * sends READY=1: fails if the unit is active before the mark, and resolves
 * to whether it became active after it (within `ms`).
 */
export async function activeOnlyAfter(unit: string, mark: string, ms = 120_000): Promise<boolean> {
  const states = new Set<string>();
  const deadline = Date.now() + ms;
  let active = false;
  while (Date.now() < deadline) {
    // State first, then the mark: the container marks before it notifies,
    // so "active" seen with no mark after it is a unit active too early.
    const state = await unitProperty(unit, "ActiveState");
    const marked = exists(mark);
    if (!marked) {
      states.add(state);
      assert.notEqual(state, "active", "active before the container sent READY=1");
    } else if (state === "active") {
      active = true;
      break;
    }
    if (state === "failed" || state === "inactive" && marked) break;
    await sleep(100);
  }
  assert(states.has("activating"), `states seen before READY=1: ${[...states]}`);
  return active;
}

/**
 * What the integration tests run against, from the environment:
 * OCIMON_BIN (the monitor under test; default bin/ocimon, or a compiled
 * dist/ocimon; the -conmon lanes set /usr/bin/conmon, the control),
 * OCIMON_TEST_RUNTIME (runc or crun, or a path) and OCIMON_TEST_TMP (where
 * bundles and state go; the checkout may be read-only, as in the VM lane).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { which } from "../../src/util/which.ts";

export const REPO = resolve(new URL("../..", import.meta.url).pathname);

export const OCIMON_BIN = resolve(Deno.env.get("OCIMON_BIN") ?? join(REPO, "bin/ocimon"));
/** Whether the monitor under test is conmon (a -conmon lane: the control). */
export const IS_CONMON = OCIMON_BIN.endsWith("/conmon");
/** The monitor under test in one word, for test names and messages. */
export const MONITOR_NAME = IS_CONMON ? "conmon" : "ocimon";
/** conmon as the control, where a test or the bench runs it beside OCIMON_BIN. */
export const CONMON = "/usr/bin/conmon";

/** Where `name` is on this process's PATH; throws if it is nowhere. */
export function onPath(name: string): string {
  const path = which(name, Deno.env.get("PATH") ?? "");
  if (path === undefined) throw new Error(`${name} not found on PATH`);
  return path;
}

export const RUNTIME = onPath(Deno.env.get("OCIMON_TEST_RUNTIME") ?? "runc");

/** A fresh directory for one test, removed by the returned cleanup. */
export function tempDir(prefix: string): string {
  const base = Deno.env.get("OCIMON_TEST_TMP");
  if (base) Deno.mkdirSync(base, { recursive: true });
  return Deno.makeTempDirSync({ prefix: `ocimon-${prefix}-`, ...(base ? { dir: base } : {}) });
}

/** The host's cgroup layout in one word, for test names and skips. */
export function memoryCgroupVersion(): 1 | 2 {
  const mi = Deno.readTextFileSync("/proc/self/mountinfo");
  return /\s-\scgroup\s\S+\s\S*\bmemory\b/.test(mi) ? 1 : 2;
}

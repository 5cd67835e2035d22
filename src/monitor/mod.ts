/**
 * One container's life under ocimon, as phases over one session:
 * prepare → create → watch → exit → report, then teardown. Each phase lives
 * in its own module and hands the next a typed record; any failure, in any
 * phase, goes to the one way of giving up (give_up.ts).
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import { prepare } from "./prepare.ts";
import { create } from "./create.ts";
import { watch } from "./watch.ts";
import { awaitExit } from "./exit.ts";
import { buildStatus, report } from "./report.ts";
import { giveUp } from "./give_up.ts";
import { type MonitorHooks, type MonitorResult, MonitorSession } from "./session.ts";

export type { MonitorHooks, MonitorResult } from "./session.ts";
export { TIMED_OUT_EXIT, TIMED_OUT_MESSAGE } from "./exit.ts";

/** Delay of the last reap: output from a writer that outlives the container still reaches the logs. */
const FINAL_REAP_MS = 1000;

/**
 * Monitors one container to its end. Never throws: whatever fails, the
 * caller is told (an error on the sync pipe, or the exit files), a container
 * the runtime made is never left running unwatched, and the reason goes to
 * the diagnostics.
 */
export async function monitorContainer(
  cfg: Config,
  hooks: MonitorHooks = {},
): Promise<MonitorResult> {
  const session = new MonitorSession(cfg, hooks);
  try {
    await prepare(session);
    const created = await create(session);
    const watching = await watch(session, created);
    const exit = await awaitExit(session, watching);
    const status = buildStatus(cfg, exit);
    await report(session, exit, status);
    await session.teardown(FINAL_REAP_MS);
    return { ok: true, status };
  } catch (err) {
    return await giveUp(session, err);
  }
}

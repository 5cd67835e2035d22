/**
 * The exit command (--exit-command, --exit-command-arg, --exit-delay):
 * podman's `container cleanup`. As conmon, the monitor waits for it (so a
 * caller that waits for the monitor also waits for the cleanup).
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import type { ChildReaper } from "../reaper/child_reaper.ts";
import type { WaitResult } from "../sys/process.ts";
import { spawnChild } from "./oci_runtime.ts";
import { diag } from "../diag.ts";
import { sleep } from "../util/timer.ts";

export async function runExitCommand(
  cfg: Config,
  reaper: ChildReaper,
): Promise<WaitResult | undefined> {
  if (!cfg.exitCommand) return undefined;
  if (cfg.exitDelay > 0) await sleep(cfg.exitDelay * 1000);
  try {
    const pid = reaper.started(spawnChild({
      argv: [cfg.exitCommand, ...cfg.exitCommandArgs],
      fds: { 0: "null", 1: "null", 2: "null" },
    }));
    return await reaper.wait(pid);
  } catch (err) {
    diag(`cannot run exit command ${cfg.exitCommand}: ${err}`);
    return undefined;
  }
}

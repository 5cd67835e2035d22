/**
 * The exit command (--exit-command, --exit-command-arg, --exit-delay):
 * podman's `container cleanup`. It runs in its own session, detached, and
 * outlives us; we do not wait for it.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import { spawnChild } from "./oci_runtime.ts";

export async function runExitCommand(cfg: Config): Promise<void> {
  if (!cfg.exitCommand) return;
  if (cfg.exitDelay > 0) await new Promise((r) => setTimeout(r, cfg.exitDelay * 1000));
  try {
    spawnChild({
      argv: [cfg.exitCommand, ...cfg.exitCommandArgs],
      setsid: true,
      fds: { 0: "null", 1: "null", 2: "null" },
    });
  } catch (err) {
    console.error(`ocimon: cannot run exit command ${cfg.exitCommand}: ${err}`);
  }
}

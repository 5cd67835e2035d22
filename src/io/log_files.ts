/**
 * The logs are set up before anything else, as conmon does: a log that
 * cannot be opened (a missing directory, a read-only filesystem, a path
 * outside --log-allowlist-dir) is one clear line and exit 1 from the
 * launcher, before the runtime runs and before any socket or FIFO exists.
 * The launcher opens the k8s-file logs and the monitor inherits the
 * descriptors by number (as conmon's fork would), named in its environment
 * (src/env.ts). This module is the launcher's: the monitor does not load it.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import { basename, dirname, join } from "../util/path.ts";
import { closeQuietly } from "../sys/fd.ts";
import { exists } from "../util/fs.ts";
import { SysError } from "../sys/libc.ts";
import { openK8sLogFile } from "./k8s_file.ts";
import { k8sLogPaths } from "./log_sinks.ts";

/** A log that cannot be used: the message is the one line the caller sees. */
export class LogSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LogSetupError";
  }
}

/**
 * Opens every k8s-file log (creating the file, never a directory), within
 * --log-allowlist-dir. Returns the descriptors in order; the paths of the
 * files it created (none there before) go into `created`, so that a
 * launcher that gives up later can leave nothing behind.
 */
export function openLogFiles(cfg: Config, created: string[] = []): number[] {
  const fds: number[] = [];
  try {
    for (const path of k8sLogPaths(cfg)) {
      checkAllowed(path, cfg.logAllowlistDirs);
      try {
        const existed = exists(path);
        fds.push(openK8sLogFile(path));
        if (!existed) created.push(path);
      } catch (err) {
        const why = err instanceof SysError ? err.message.replace(/^open \S+: /, "") : err;
        throw new LogSetupError(`Failed to open log file ${path}: ${why}`);
      }
    }
  } catch (err) {
    fds.forEach(closeQuietly);
    removeCreatedLogs(created);
    throw err;
  }
  return fds;
}

/** Removes the logs openLogFiles created (when the launcher gives up). */
export function removeCreatedLogs(created: string[]): void {
  for (const path of created.splice(0)) {
    try {
      Deno.removeSync(path);
    } catch { /* gone already: nothing to leave behind */ }
  }
}

/**
 * --log-allowlist-dir: the log must lie in one of the directories or below,
 * compared after resolving symlinks in both (the log's own name too, if it
 * exists). Directories that do not exist allow nothing (conmon skips them).
 */
function checkAllowed(path: string, dirs: readonly string[]): void {
  if (dirs.length === 0) return;
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch {
    try {
      real = join(Deno.realPathSync(dirname(path)), basename(path));
    } catch {
      return; // no such directory: the open fails and says so
    }
  }
  const inside = dirs.some((d) => {
    let dir: string;
    try {
      dir = Deno.realPathSync(d);
    } catch {
      return false;
    }
    return real === dir || real.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
  });
  if (!inside) {
    throw new LogSetupError(
      `log file ${path} is outside the allowed log directories (--log-allowlist-dir ${
        dirs.join(", ")
      })`,
    );
  }
}

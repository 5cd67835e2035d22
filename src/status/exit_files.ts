/**
 * The files callers wait for: `oom` markers, the persist-dir `exit` file and
 * the exit-dir `CID` file, in conmon's formats and order. The exit-dir file
 * is the "done" signal (podman watches that directory), so it is written last.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import { join } from "../util/path.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import { diag } from "../diag.ts";

export interface ExitFileTargets {
  cid: string;
  /** Where the `oom` file goes; none for an exec without a bundle. */
  bundle?: string;
  persistDir?: string;
  exitDir?: string;
}

/**
 * Where a monitor's exit files go. The bundle gets its `oom` file only where
 * clients have endpoints there (not for an exec without --bundle).
 */
export function exitFileTargets(cfg: Config): ExitFileTargets {
  return {
    cid: cfg.cid,
    bundle: cfg.bundleEndpoints ? cfg.bundle : undefined,
    persistDir: cfg.persistDir,
    exitDir: cfg.exitDir,
  };
}

/** Creates the empty `oom` files podman and CRI-O look for. Idempotent. */
export function writeOomFiles(t: ExitFileTargets): void {
  for (const dir of [t.bundle, t.persistDir]) {
    if (!dir) continue;
    try {
      Deno.mkdirSync(dir, { recursive: true });
      writeFileAtomic(join(dir, "oom"), "");
    } catch (err) {
      diag(`cannot write ${join(dir, "oom")}: ${err}`);
    }
  }
}

/** The persist-dir `exit` file: the exit code in decimal, no newline. */
export function writePersistExitFile(t: ExitFileTargets, exitCode: number): void {
  if (!t.persistDir) return;
  Deno.mkdirSync(t.persistDir, { recursive: true });
  writeFileAtomic(join(t.persistDir, "exit"), String(exitCode));
}

/** The exit-dir `CID` file: written last, it tells the caller we are done. */
export function writeExitDirFile(t: ExitFileTargets, exitCode: number): void {
  if (!t.exitDir) return;
  writeFileAtomic(join(t.exitDir, t.cid), String(exitCode));
}

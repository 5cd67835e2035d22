/**
 * The launcher's last step, daemonizing without fork: it re-executes ocimon
 * as the monitor, in a new session with stdio on /dev/null, writes the
 * monitor's pid to --conmon-pidfile and exits 0. The caller's pipes (sync,
 * attach) and the open logs are inherited by number, as they would be
 * across conmon's fork.
 *
 * @module
 */
import { basename } from "../util/path.ts";
import type { Config } from "../cli/config.ts";
import { spawn } from "../sys/spawn.ts";
import { closeQuietly, openRaw } from "../sys/fd.ts";
import { O_APPEND, O_CLOEXEC, O_CREAT, O_WRONLY, SIGKILL } from "../sys/libc.ts";
import { writeFileAtomic } from "../status/atomic_write.ts";
import { debugLogPath, monitorEnvironment, selfLauncher } from "../env.ts";
import { kill } from "../sys/process.ts";

/**
 * The argv prefix that starts this same ocimon again: `launcher` (bin/ocimon,
 * when running from source) if there is one.
 */
function selfCommand(launcher: string | undefined): string[] {
  if (launcher) return [launcher];
  const exe = Deno.execPath();
  // `deno run src/main.ts` by hand: a compiled binary is its own command.
  if (basename(exe) === "deno" && Deno.mainModule.startsWith("file:")) {
    return [
      exe,
      "run",
      "--allow-all",
      "--quiet",
      decodeURIComponent(new URL(Deno.mainModule).pathname),
    ];
  }
  return [exe];
}

/** Starts the monitor and records its pid. Returns the launcher's exit status. */
export function spawnMonitor(cfg: Config, argv: readonly string[], logFds: number[]): number {
  const self = selfCommand(selfLauncher());
  const passthrough = cfg.logDrivers.some((d) => d.kind === "passthrough");
  const env = monitorEnvironment(logFds);
  // OCIMON_DEBUG_LOG names a file for the monitor's diagnostics, which
  // otherwise go to /dev/null with the rest of its stdio (as conmon's).
  const debugLog = debugLogPath();
  const errFd = debugLog
    ? openRaw(debugLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    : undefined;
  // With passthrough the container writes to our stdio, so keep it.
  const fds: Record<number, number | "null"> = passthrough
    ? {}
    : { 0: "null", 1: "null", 2: errFd ?? "null" };
  for (const fd of logFds) fds[fd] = fd; // the open logs, inherited by number
  let pid: number;
  try {
    pid = spawn({ path: self[0], argv: [...self, ...argv], env, setsid: true, fds });
  } finally {
    closeQuietly(errFd);
  }
  if (cfg.conmonPidfile) {
    try {
      writeFileAtomic(cfg.conmonPidfile, String(pid));
    } catch (err) {
      // Checked writable before (preflight.ts); if that changed since, the monitor
      // must not go on without the caller knowing its pid.
      kill(pid, SIGKILL);
      console.error(`ocimon: cannot write the conmon pidfile ${cfg.conmonPidfile}: ${err}`);
      return 1;
    }
  }
  return 0;
}

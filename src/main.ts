/**
 * ocimon's entry point: which of its jobs this process does.
 *  - `ocimon run BUNDLE`: one container in the foreground (run_command.ts);
 *  - --help, --version;
 *  - otherwise conmon's command line, and this process is either the
 *    launcher the caller started, which checks what it can before anything
 *    is made (launcher/preflight.ts), then starts the monitor and exits, as
 *    conmon forks (launcher/spawn_monitor.ts), or with --sync becomes the
 *    monitor itself; or the monitor the launcher started (src/env.ts says
 *    which). The monitor watches the container to its end (monitor.ts).
 * Modules load lazily so that the launcher stays cheap.
 *
 * @module
 */
import { configWarnings, parseCommandLine, UsageError } from "./cli/parse.ts";
import type { Config } from "./cli/config.ts";
import { isMonitorProcess, takeLogFds } from "./env.ts";
import { diag, errorText, fatal, setDiagLevel, usageFailure, useSyslog } from "./diag.ts";

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "run") {
    const { runCommand } = await import("./run_command.ts");
    return await runCommand(argv.slice(1));
  }
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageFailure(err.message, err.hint);
  }
  if (parsed.action !== "monitor") {
    const { helpText, versionText } = await import("./cli/help.ts");
    await Deno.stdout.write(new TextEncoder().encode(
      parsed.action === "help" ? helpText() : versionText(),
    ));
    return 0;
  }
  const cfg = parsed.config;
  setDiagLevel(cfg.logLevel);
  if (cfg.syslog) await useSyslog(cfg.cid, cfg.name);
  if (isMonitorProcess()) {
    const { inheritLogFiles } = await import("./io/log_sinks.ts");
    return await monitor(cfg, inheritLogFiles(takeLogFds()));
  }
  for (const w of configWarnings(cfg)) console.error(`ocimon: ${w}`);
  const { preflight } = await import("./launcher/preflight.ts");
  const checked = await preflight(cfg);
  if ("exitCode" in checked) return checked.exitCode;
  if (!cfg.sync) {
    const { spawnMonitor } = await import("./launcher/spawn_monitor.ts");
    return spawnMonitor(cfg, argv, checked.logFiles);
  }
  return await monitor(cfg, checked.logFiles);
}

/** Be the monitor: watch the container to its end; its exit code is ours. */
async function monitor(cfg: Config, logFiles: number[] | undefined): Promise<number> {
  const { protectFromOomKiller } = await import("./runtime/oci_runtime.ts");
  protectFromOomKiller();
  if (cfg.sync && cfg.conmonPidfile) {
    // --sync: the launcher is the monitor, and the pid to record its own.
    const { writeFileAtomic } = await import("./status/atomic_write.ts");
    writeFileAtomic(cfg.conmonPidfile, String(Deno.pid));
  }
  const { monitorContainer } = await import("./monitor/mod.ts");
  const result = await monitorContainer(cfg, { logFiles });
  if (!result.ok) return fatal(result.message.trimEnd());
  return result.status.exitCode;
}

if (import.meta.main) {
  // A caller that goes away must not kill us mid-write.
  Deno.addSignalListener("SIGPIPE", () => {});
  // The last line of the guard: an error that escaped every handler is said,
  // and the monitor goes on to write its exit files (monitor.ts).
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    diag(`internal error: ${errorText(e.reason)}`, "error");
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    diag(`internal error: ${errorText(e.error)}`, "error");
  });
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    diag(errorText(err), "error");
    code = 1;
  }
  Deno.exit(code);
}

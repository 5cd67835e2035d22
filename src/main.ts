/**
 * ocimon's entry point: parse, validate, then either launch the monitor as a
 * daemon (the default, as conmon) or be the monitor (--sync, or the daemon).
 * Heavy modules load lazily so that the launcher stays cheap.
 *
 * @module
 */
import { configWarnings, parseCommandLine, UsageError } from "./cli/parse.ts";
import { isDaemon } from "./role.ts";
import { diag, errorText, setDiagLevel } from "./diag.ts";

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "run") {
    const { runCommand } = await import("./run_command.ts");
    return await runCommand(argv.slice(1));
  }
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    return reportUsageError(err);
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
  // TRANSITIONAL, until the create phase runs restoreArgv() and
  // listenPidPlan()/withListenPid() (src/runtime/): refused, not ignored.
  for (
    const [given, name] of [[cfg.restore, "restore"], [cfg.replaceListenPid, "replace-listen-pid"]]
  ) {
    if (given) {
      return fatal(`option --${name} is not supported yet: the monitor does not act on it`);
    }
  }
  if (cfg.syslog) {
    // As conmon's --syslog (podman always passes it): diagnostics also go to
    // the system log, a failure at error priority, the rest as warnings.
    const { Syslog, LOG_ERR, LOG_WARNING } = await import("./sys/syslog.ts");
    const { addDiagSink } = await import("./diag.ts");
    const log = new Syslog(cfg.cid);
    addDiagSink((m) => log.send(LOG_WARNING, m));
    toSyslog = (m) => log.send(LOG_ERR, m);
  }
  let logFiles: number[] | undefined;
  if (!isDaemon()) {
    for (const w of configWarnings(cfg)) console.error(`ocimon: ${w}`);
    if (cfg.logDrivers.some((d) => d.kind === "journald")) {
      // Checked before anything is made: a host without libsystemd gets one line.
      const { JournalClient } = await import("./sys/libsystemd.ts");
      try {
        JournalClient.open();
      } catch (err) {
        return fatal((err as Error).message);
      }
    }
    if (cfg.conmonPidfile) {
      // Checked before anything runs: a pidfile we cannot write fails here,
      // with nothing created (conmon finds out only after it forked).
      const { checkWritable } = await import("./status/atomic_write.ts");
      const problem = checkWritable(cfg.conmonPidfile);
      if (problem) {
        console.error(`ocimon: cannot write the conmon pidfile ${cfg.conmonPidfile}: ${problem}`);
        return 1;
      }
    }
    if (cfg.cgroup) {
      const { joinCgroup } = await import("./cgroup/join.ts");
      try {
        joinCgroup(cfg.cgroup);
      } catch (err) {
        return reportUsageError(err);
      }
    }
    // Then the logs, as conmon: a log that cannot be used costs nothing but a message.
    const { openLogFiles, LogSetupError, removeCreatedLogs } = await import("./io/log_files.ts");
    const createdLogs: string[] = [];
    try {
      logFiles = openLogFiles(cfg, createdLogs);
    } catch (err) {
      if (!(err instanceof LogSetupError)) throw err;
      return fatal(err.message);
    }
    const { waitOnStartPipe, ParentPipe, SYNC_PIPE_ENV } = await import("./io/sync_pipe.ts");
    waitOnStartPipe(cfg.execAttach);
    // Where the caller has placed us by now: too little memory there fails
    // here, with a message for the caller, not later as a silent OOM kill.
    const { monitorCgroupTooSmall } = await import("./cgroup/monitor_limit.ts");
    const tooSmall = monitorCgroupTooSmall();
    if (tooSmall) {
      removeCreatedLogs(createdLogs);
      console.error(`ocimon: ${tooSmall}`);
      ParentPipe.fromEnv(SYNC_PIPE_ENV, cfg.apiVersion, cfg.exec).send(-1, tooSmall);
      return 1;
    }
    if (!cfg.sync) {
      const { daemonize } = await import("./daemon.ts");
      return daemonize(cfg, argv, logFiles);
    }
  }

  const { protectFromOomKiller } = await import("./runtime/oci_runtime.ts");
  protectFromOomKiller();
  if (cfg.sync && cfg.conmonPidfile) {
    const { writeFileAtomic } = await import("./status/atomic_write.ts");
    writeFileAtomic(cfg.conmonPidfile, String(Deno.pid));
  }
  const { monitorContainer } = await import("./monitor.ts");
  const result = await monitorContainer(cfg, { logFiles });
  if (!result.ok) return fatal(result.message.trimEnd());
  return result.status.exitCode;
}

/** With --syslog: where a failure is also said. */
let toSyslog: ((message: string) => void) | undefined;

/** Says why the monitor fails (stderr, and the system log with --syslog); exit status 1. */
function fatal(message: string): number {
  console.error(`ocimon: ${message}`);
  toSyslog?.(message);
  return 1;
}

/** Bad input: the problem (in conmon's words where conmon has them), then a hint. */
function reportUsageError(err: unknown): number {
  if (!(err instanceof UsageError)) throw err;
  console.error(`ocimon: ${err.message}`);
  console.error(err.hint ?? "Try 'ocimon --help' for the list of options.");
  return 1;
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

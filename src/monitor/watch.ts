/**
 * Phase 3, watch: from the container's pid to its exit. Starts the OOM
 * watcher and the output relay, tells the caller the pid, arms --timeout,
 * and hands on what the exit phase needs.
 *
 * @module
 */
import { OutputRelay } from "../io/container_io.ts";
import { type MemoryCgroup, memoryCgroupOf } from "../cgroup/paths.ts";
import { OomWatcher } from "../oom/watcher.ts";
import { writeOomFiles } from "../status/exit_files.ts";
import { SIGKILL } from "../sys/libc.ts";
import { diag, errorText } from "../diag.ts";
import { MonitorFailure, type MonitorSession } from "./session.ts";
import { OomReports } from "./oom_reports.ts";
import type { Created } from "./create.ts";
import { after } from "../util/timer.ts";

/** The hand-off from watch to exit. */
export interface Watching extends Created {
  /** The container's memory cgroup, if it could be found. */
  cgroup?: MemoryCgroup;
  watcher?: OomWatcher;
  /** The kernel's reports of kills in the container's cgroup. */
  oomReports?: OomReports;
  relay: OutputRelay;
  deadline: Deadline;
}

/** --timeout: kills the container when it runs too long. */
export interface Deadline {
  readonly timedOut: boolean;
  clear(): void;
}

export async function watch(s: MonitorSession, created: Created): Promise<Watching> {
  const { cfg } = s;
  const { pid } = created;
  let watching: Watching;
  try {
    watching = { ...created, ...startWatching(s, pid), deadline: armTimeout(s, pid, cfg.timeout) };
  } catch (err) {
    throw new MonitorFailure(`cannot watch the container: ${errorText(err)}`);
  }
  // Legacy (API 0) exec callers expect one message only: the exit code.
  if (cfg.apiVersion >= 1 || !cfg.exec) s.sync.send(pid);
  s.stage = "pid-sent";
  if (s.hooks.afterCreate) {
    try {
      await s.hooks.afterCreate(pid, s.reaper);
    } catch (err) {
      diag(errorText(err));
      s.reaper.signal(pid, SIGKILL);
    }
  }
  return watching;
}

/** The OOM watcher, and the relay of the output to the logs and clients. */
function startWatching(
  s: MonitorSession,
  pid: number,
): Pick<Watching, "cgroup" | "watcher" | "oomReports" | "relay"> {
  const cgroup = memoryCgroupOf(pid);
  const watcher = cgroup ? OomWatcher.open(cgroup) : undefined;
  const oomReports = cgroup ? new OomReports(s, cgroup.path, pid) : undefined;
  if (watcher) {
    s.closeWatcher = () => {
      oomReports?.cancel();
      watcher.close();
    };
    watcher.watch(s.poller, () => {
      writeOomFiles(s.exitFiles);
      oomReports?.soon();
    });
  }
  const relay = new OutputRelay(s.poller, s.endpoints!.outputSources());
  s.relay = relay;
  s.logSinks!.sinks.forEach((sink, i) => relay.addSink(sink, `log ${i + 1}`));
  const attach = s.endpoints!.attach;
  if (attach) relay.addSink((stream, data) => attach.broadcast(stream, data), "attach");
  (s.hooks.sinks ?? []).forEach((sink, i) => relay.addSink(sink, `output ${i + 1}`));
  relay.start();
  return { cgroup, watcher, oomReports, relay };
}

function armTimeout(s: MonitorSession, pid: number, seconds: number): Deadline {
  let timedOut = false;
  const timer = seconds > 0
    ? after(seconds * 1000, () => {
      timedOut = true;
      // The whole process group, as conmon, unless that would be everyone.
      s.reaper.signalGroup(pid, SIGKILL);
    })
    : undefined;
  return {
    get timedOut() {
      return timedOut;
    },
    clear: () => timer?.cancel(),
  };
}

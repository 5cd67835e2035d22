/**
 * The one way a monitor gives up, whatever failed and wherever: the stage
 * the session reached says what must be undone, and the caller is told in
 * the way it listens at that stage (the sync pipe before it has the pid,
 * the exit files after). Then the same teardown as a normal end, exit
 * command included.
 *
 * @module
 */
import { deleteArgv } from "../runtime/runtime_args.ts";
import { runToCompletion } from "../runtime/oci_runtime.ts";
import { writeExitDirFile, writePersistExitFile } from "../status/exit_files.ts";
import { SIGKILL } from "../sys/libc.ts";
import { diag, errorText } from "../diag.ts";
import {
  attempt,
  describeExit,
  MonitorFailure,
  type MonitorResult,
  type MonitorSession,
} from "./session.ts";
import { after, type Timer } from "../util/timer.ts";

/** How long a killed container gets to be reaped before its exit code is given as -1. */
const KILLED_REAP_MS = 2000;

export async function giveUp(s: MonitorSession, err: unknown): Promise<MonitorResult> {
  const failure = err instanceof MonitorFailure;
  const message = failure ? err.message : `internal error: ${errorText(err)}`;
  if (!failure) diag(message, "error");
  switch (s.stage) {
    case "setup":
      break;
    case "created":
      // Made, but the caller never heard of it: it must not outlive us.
      if (s.pid !== undefined) s.reaper.signal(s.pid, SIGKILL);
      if (!s.cfg.exec) await deleteContainer(s);
      break;
    case "pid-sent":
      // The caller counts on the exit files: nobody would watch the
      // container any more, so it ends with us, and they say how.
      await endWatched(s, message);
      break;
    case "reported":
      break;
  }
  if (s.stage === "setup" || s.stage === "created") s.sync.send(-1, message);
  s.sync.close();
  await s.teardown(KILLED_REAP_MS);
  return { ok: false, message };
}

/** `runtime delete`, best effort: the rest of giving up goes on regardless. */
async function deleteContainer(s: MonitorSession): Promise<void> {
  const { cfg } = s;
  await attempt(`${cfg.runtime} delete`, async () => {
    const argv = deleteArgv(cfg.runtime, cfg.runtimeArgs, cfg.cid);
    const r = await runToCompletion(s.reaper, argv, cfg.bundle);
    if (r.code !== 0) diag(`${cfg.runtime} delete ended with ${describeExit(r)}`);
  });
}

async function endWatched(s: MonitorSession, message: string): Promise<void> {
  let code = s.exitCode;
  if (code === undefined && s.pid !== undefined) {
    s.reaper.signal(s.pid, SIGKILL);
    let timer: Timer | undefined;
    const exit = await Promise.race([
      s.reaper.wait(s.pid),
      new Promise<undefined>((r) => (timer = after(KILLED_REAP_MS, () => r(undefined)))),
    ]);
    timer?.cancel();
    code = exit?.code;
  }
  code ??= -1;
  const exitCode = code;
  attempt("writing the persist exit file", () => writePersistExitFile(s.exitFiles, exitCode));
  attempt("writing the exit file", () => writeExitDirFile(s.exitFiles, exitCode));
  if (s.cfg.exec) s.sync.send(exitCode, message);
}

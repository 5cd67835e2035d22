/**
 * `podman run --sdnotify=container` under a Type=notify unit, as Quadlet's
 * Notify=true runs it: the unit becomes active only when the container
 * sends READY=1, and its MainPID is then the monitor's (podman sends
 * MAINPID=<monitor pid>; the monitor relays READY=1 from that pid).
 * systemd-run with the default NotifyAccess=main, the stricter setting.
 * OCIMON_BIN=/usr/bin/conmon is the control. Needs systemd as
 * PID 1 (tests/systemd: the systemd VM lane).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { IS_CONMON, MONITOR_NAME, OCIMON_BIN, RUNTIME } from "../support/env.ts";
import { run } from "../support/harness.ts";
import { activeOnlyAfter, rootfsForHostUsr, unitProperty } from "../support/systemd.ts";

// busybox, with the host's /usr mounted on it for systemd-notify.
const base = Deno.makeTempDirSync({ dir: "/tmp", prefix: "osr" });
const rootfs = rootfsForHostUsr(base);

const cmd = (argv: string[], ms = 60_000) => run(argv, { timeoutMs: ms });
const show = unitProperty;

/** True when the control, conmon, is older than MAJOR.MINOR.PATCH. */
async function conmonBefore(...want: number[]): Promise<boolean> {
  const v = (await cmd([OCIMON_BIN, "--version"])).stdout.match(/(\d+)\.(\d+)\.(\d+)/);
  assert(v, "conmon --version names a version");
  const have = v.slice(1).map(Number);
  const i = have.findIndex((n, k) => n !== want[k]);
  return i >= 0 && have[i] < want[i];
}

Deno.test(`sd-notify (${MONITOR_NAME}): a Type=notify unit is active only after the container's READY=1, MainPID the monitor`, async () => {
  const n = `notify-${MONITOR_NAME}-${Deno.pid}`;
  const unit = `ocimon-test-${n}.service`;
  const dir = Deno.makeTempDirSync({ dir: "/tmp", prefix: "osn" });
  // The container waits 4 s, marks that it is about to notify, then does.
  const script =
    "sleep 4; touch /m/notifying; /usr/bin/systemd-notify --ready --status=serving; sleep 300";
  try {
    const r = await cmd([
      "systemd-run",
      "--unit",
      unit,
      "-p",
      "Type=notify",
      "-p",
      "TimeoutStartSec=120",
      "--no-block",
      "podman",
      "--runtime",
      RUNTIME,
      "--conmon",
      OCIMON_BIN,
      "run",
      "--rm",
      "--sdnotify=container",
      "--name",
      n,
      "--network",
      "none",
      "-v",
      `${dir}:/m`,
      "-v",
      "/usr:/usr:ro",
      "--rootfs",
      rootfs,
      "sh",
      "-c",
      script,
    ]);
    assert.equal(r.code, 0, r.stderr);
    // Until the container says it is about to notify, the unit must not be active.
    const active = await activeOnlyAfter(unit, join(dir, "notifying"));
    const journal = await cmd(["journalctl", "--no-pager", "-u", unit, "-o", "cat"]);
    assert(
      active,
      `the unit never became active: ${await show(unit, "ActiveState")}\n${journal.stdout}`,
    );
    const mainPid = Number(await show(unit, "MainPID"));
    const monitor = Number(
      (await cmd(["podman", "inspect", n, "--format", "{{.State.ConmonPid}}"])).stdout,
    );
    assert(monitor > 0, "podman knows the monitor's pid");
    assert.equal(mainPid, monitor, "MainPID is the monitor's pid");
    const comm = Deno.readTextFileSync(`/proc/${mainPid}/cmdline`);
    assert.match(comm, IS_CONMON ? /conmon/ : /ocimon|main\.ts/);
    // STATUS= is relayed by ocimon and by conmon from 2.1.9 (Debian 13's
    // 2.1.12); 2.1.6 (Debian 12) relays READY=1 and WATCHDOG=1 alone.
    assert.equal(
      await show(unit, "StatusText"),
      IS_CONMON && await conmonBefore(2, 1, 9) ? "" : "serving",
    );
  } finally {
    await cmd(["systemctl", "stop", unit]);
    await cmd(["systemctl", "reset-failed", unit]);
    await cmd(["podman", "rm", "-f", "-t", "0", n]);
    Deno.removeSync(dir, { recursive: true });
  }
});

addEventListener("unload", () => {
  try {
    Deno.removeSync(base, { recursive: true });
  } catch { /* in use */ }
});

/**
 * Quadlet, as people deploy podman containers on a systemd host: a
 * `.container` file in /etc/containers/systemd, turned into a service by
 * podman's systemd generator on `systemctl daemon-reload`, with the monitor
 * chosen the way an operator chooses it, `conmon_path` in containers.conf
 * (here a file named by CONTAINERS_CONF_OVERRIDE in the unit, so that
 * nothing else on the host changes). The generated service runs
 * `podman run -d --rm --cgroups=split --sdnotify=conmon|container` as
 * Type=notify with NotifyAccess=all: systemd then tracks the monitor as the
 * unit's main process, so its exit status is what `systemctl` reports.
 * OCIMON_BIN=/usr/bin/conmon is the control. Needs systemd as
 * PID 1 and podman >= 4.4 (Debian 13's 5.4; Debian 12's 4.3 has no Quadlet):
 * the systemd lane runs it on the Debian 13 root.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { IS_CONMON, MONITOR_NAME, OCIMON_BIN, RUNTIME } from "../support/env.ts";
import { isAlive, run, sleep } from "../support/harness.ts";
import { activeOnlyAfter, rootfsForHostUsr, unitProperty } from "../support/systemd.ts";

const QUADLET = "/usr/libexec/podman/quadlet";
const UNIT_DIR = "/etc/containers/systemd";

// busybox, with the host's /usr mounted on it for systemd-notify.
const base = Deno.makeTempDirSync({ dir: "/tmp", prefix: "oql" });
const rootfs = rootfsForHostUsr(base);
// What an operator puts in containers.conf: the monitor, and the runtime
// this lane runs.
const conf = join(base, "ocimon.conf");
Deno.writeTextFileSync(
  conf,
  `[engine]\nconmon_path = ["${OCIMON_BIN}"]\nruntime = "${basename(RUNTIME)}"\n`,
);

const cmd = (argv: string[], ms = 120_000) => run(argv, { timeoutMs: ms });
const show = unitProperty;

let seq = 0;

/**
 * Writes NAME.container, has systemd generate NAME.service, and runs `body`
 * with the unit's name and a directory the container sees as /m; removes
 * all of it afterwards.
 */
async function withUnit(
  what: string,
  container: string[],
  body: (unit: string, ctr: string, dir: string) => Promise<void>,
): Promise<void> {
  assert(Deno.statSync(QUADLET).isFile, `${QUADLET}: this podman has no Quadlet`);
  const name = `ocimon-q-${what}-${MONITOR_NAME}-${Deno.pid}-${++seq}`;
  const unit = `${name}.service`;
  const dir = Deno.makeTempDirSync({ dir: "/tmp", prefix: "oqm" });
  const file = join(UNIT_DIR, `${name}.container`);
  Deno.mkdirSync(UNIT_DIR, { recursive: true });
  Deno.writeTextFileSync(
    file,
    [
      "[Container]",
      `Rootfs=${rootfs}`,
      "Network=none",
      `Volume=${dir}:/m`,
      "Volume=/usr:/usr:ro",
      ...container,
      "",
      "[Service]",
      `Environment=CONTAINERS_CONF_OVERRIDE=${conf}`,
      "TimeoutStartSec=180",
      "",
    ].join("\n"),
  );
  try {
    const reload = await cmd(["systemctl", "daemon-reload"]);
    assert.equal(reload.code, 0, reload.stderr);
    assert.equal(await show(unit, "LoadState"), "loaded", `${unit} was not generated`);
    // Quadlet names the container systemd-NAME.
    await body(unit, `systemd-${name}`, dir);
  } finally {
    await cmd(["systemctl", "stop", unit]);
    await cmd(["systemctl", "reset-failed", unit]);
    await cmd(["podman", "rm", "-f", "-t", "0", `systemd-${name}`]);
    Deno.removeSync(file);
    await cmd(["systemctl", "daemon-reload"]);
    Deno.removeSync(dir, { recursive: true });
  }
}

/** The monitor's pid, as podman knows it. */
async function monitorOf(ctr: string): Promise<number> {
  const r = await cmd(["podman", "inspect", ctr, "--format", "{{.State.ConmonPid}}"]);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout.trim());
}

const cgroupOf = (pid: number) =>
  Deno.readTextFileSync(`/proc/${pid}/cgroup`).trim().replace(/^0::/, "");

/** Waits until the unit is no longer active (or activating, deactivating). */
async function settled(unit: string, ms = 60_000): Promise<string> {
  const deadline = Date.now() + ms;
  let state = "";
  while (Date.now() < deadline) {
    state = await show(unit, "ActiveState");
    if (state === "failed" || state === "inactive") return state;
    await sleep(200);
  }
  return state;
}

Deno.test(`Quadlet (${MONITOR_NAME}): a .container unit with conmon_path set runs under the monitor, its output in journalctl -u, its exit status systemd's`, async () => {
  const script = "echo quadlet-out; echo quadlet-err >&2; " +
    "while [ ! -e /m/go ]; do sleep 0.2; done; exit 3";
  await withUnit("run", [`Exec=sh -c '${script}'`], async (unit, ctr, dir) => {
    // --sdnotify=conmon: podman says READY=1 once the container runs, and
    // MAINPID= the monitor.
    const start = await cmd(["systemctl", "start", unit], 180_000);
    assert.equal(start.code, 0, `${start.stderr}\n${(await journal(unit)).text}`);
    assert.equal(await show(unit, "ActiveState"), "active");
    const monitor = await monitorOf(ctr);
    assert(monitor > 0 && isAlive(monitor), "podman knows the monitor, and it runs");
    assert.equal(Number(await show(unit, "MainPID")), monitor, "the unit's main process");
    assert.match(
      Deno.readTextFileSync(`/proc/${monitor}/cmdline`),
      IS_CONMON ? /conmon/ : /ocimon|main\.ts/,
    );
    // --cgroups=split: the monitor and the container both in the unit's cgroup.
    const unitCgroup = await show(unit, "ControlGroup");
    assert(cgroupOf(monitor).startsWith(`${unitCgroup}/`), `${cgroupOf(monitor)} in ${unitCgroup}`);
    const pid = Number(
      (await cmd(["podman", "inspect", ctr, "--format", "{{.State.Pid}}"])).stdout.trim(),
    );
    assert(cgroupOf(pid).startsWith(`${unitCgroup}/`), `${cgroupOf(pid)} in ${unitCgroup}`);

    Deno.writeTextFileSync(join(dir, "go"), "");
    assert.equal(await settled(unit), "failed", "a container that exits 3 fails its unit");
    assert.equal(await show(unit, "Result"), "exit-code");
    assert.equal(await show(unit, "ExecMainPID"), String(monitor));
    assert.equal(await show(unit, "ExecMainStatus"), "3", "the monitor exits as the container");
    assert(!isAlive(monitor), "the monitor is gone with its unit");

    // The operator's view: the container's lines under the unit's name.
    const j = await journal(unit, (e) => e.MESSAGE === "quadlet-err\n");
    const mine = j.entries.filter((e) => e.CONTAINER_NAME === ctr);
    assert.deepEqual(mine.map((e) => [e.MESSAGE, e.PRIORITY]), [
      ["quadlet-out\n", "6"],
      ["quadlet-err\n", "3"],
    ], j.text);
    for (const e of mine) assert.equal(e._SYSTEMD_UNIT, unit);
  });
});

Deno.test(`Quadlet (${MONITOR_NAME}): Notify=true: the unit is active only after the container's READY=1; systemctl stop ends it cleanly`, async () => {
  const script = "trap 'exit 0' TERM; sleep 3; touch /m/notifying; " +
    "/usr/bin/systemd-notify --ready; while :; do sleep 0.2; done";
  await withUnit("notify", ["Notify=true", `Exec=sh -c "${script}"`], async (unit, ctr, dir) => {
    const start = await cmd(["systemctl", "start", "--no-block", unit]);
    assert.equal(start.code, 0, start.stderr);
    const active = await activeOnlyAfter(unit, join(dir, "notifying"), 180_000);
    assert(
      active,
      `never active: ${await show(unit, "ActiveState")}\n${(await journal(unit)).text}`,
    );
    const monitor = await monitorOf(ctr);
    assert.equal(Number(await show(unit, "MainPID")), monitor, "the unit's main process");

    // ExecStop is podman rm -f: SIGTERM, which the container takes as exit 0.
    const stop = await cmd(["systemctl", "stop", unit], 120_000);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await show(unit, "ActiveState"), "inactive");
    assert.equal(await show(unit, "Result"), "success");
    assert(!isAlive(monitor), "the monitor is gone with its unit");
    const left = await cmd([
      "podman",
      "ps",
      "-a",
      "--filter",
      `name=^${ctr}$`,
      "--format",
      "{{.ID}}",
    ]);
    assert.equal(left.stdout.trim(), "", "--rm: the container is removed");
  });
});

type Entry = Record<string, string>;

/** The unit's journal (journalctl -u), waiting up to 10 s for an entry `until` matches. */
async function journal(
  unit: string,
  until: (e: Entry) => boolean = () => true,
): Promise<{ entries: Entry[]; text: string }> {
  let entries: Entry[] = [];
  for (let i = 0; i < 50; i++) {
    if (i > 0) await sleep(200);
    const r = await cmd(["journalctl", "--no-pager", "-o", "json", "-u", unit]);
    entries = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    if (entries.some(until)) break;
  }
  const text = entries.map((e) => `${e.SYSLOG_IDENTIFIER ?? e._COMM}: ${e.MESSAGE}`).join("\n");
  return { entries, text };
}

addEventListener("unload", () => {
  try {
    Deno.removeSync(base, { recursive: true });
  } catch { /* in use */ }
});

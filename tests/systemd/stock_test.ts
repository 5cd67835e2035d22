/**
 * What a stock systemd host adds to podman's contract with its monitor: the
 * container in a systemd scope, its output in the journal, its events from
 * journald. podman keeps its stock configuration; only the monitor
 * (OCIMON_BIN: ocimon, or /usr/bin/conmon, the control) and the runtime are chosen.
 */
import assert from "node:assert/strict";
import { ensureRootfs, OOM_ARGS, PODMAN_OOM_MEMORY } from "../support/bundle.ts";
import { IS_CONMON, MONITOR_NAME, OCIMON_BIN, RUNTIME } from "../support/env.ts";
import { assertOomVerdicts, conmonOomKnown, conmonOomNote, eventsArgs } from "../support/podman.ts";
import { OOM_KILL_MESSAGE_ID } from "../../src/oom/describe.ts";
import { isAlive, run } from "../support/harness.ts";

const base = Deno.makeTempDirSync({ dir: "/tmp", prefix: "osd" });
const RUN = ["--network", "none", "--rootfs", ensureRootfs(base)];

/** The lane runs in a systemd service; a user at a shell has no INVOCATION_ID. */
const USER_ENV = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([k]) => k !== "INVOCATION_ID"),
);

const sh = (cmd: string, args: string[], ms = 60_000, env = USER_ENV) =>
  run([cmd, ...args], { cwd: base, env, timeoutMs: ms });
const podman = (args: string[], ms?: number, env?: Record<string, string>) =>
  sh("podman", ["--runtime", RUNTIME, "--conmon", OCIMON_BIN, ...args], ms, env);

let seq = 0;
const name = (what: string) => `sd-${what}-${Deno.pid}-${++seq}`;

Deno.test(`systemd host (${MONITOR_NAME}): podman's stock configuration is systemd, journald, journald`, async () => {
  const r = await podman([
    "info",
    "--format",
    "{{.Host.CgroupManager}} {{.Host.LogDriver}} {{.Host.EventLogger}} {{.Host.CgroupsVersion}}",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "systemd journald journald v2");
});

Deno.test(`systemd host (${MONITOR_NAME}): the container runs in machine.slice/libpod-ID.scope, the monitor beside it in libpod-conmon-ID.scope`, async () => {
  const n = name("scope");
  const r = await podman(["run", "-d", "--name", n, ...RUN, "sleep", "100"]);
  assert.equal(r.code, 0, r.stderr);
  try {
    const info = await podman([
      "inspect",
      n,
      "--format",
      "{{.Id}} {{.State.Pid}} {{.State.ConmonPid}}",
    ]);
    const [id, pid, monitorPid] = info.stdout.trim().split(" ");
    const cgroup = (p: string) => Deno.readTextFileSync(`/proc/${p}/cgroup`).trim();
    // crun puts the process one level down, in the scope's "container" cgroup.
    const scope = `/machine.slice/libpod-${id}.scope`;
    assert([`0::${scope}`, `0::${scope}/container`].includes(cgroup(pid)), cgroup(pid));
    assert.equal(cgroup(monitorPid), `0::/machine.slice/libpod-conmon-${id}.scope`);
    assert(isAlive(Number(monitorPid)));
    const unit = await sh("systemctl", ["is-active", `libpod-${id}.scope`]);
    assert.equal(unit.stdout.trim(), "active");
  } finally {
    await podman(["rm", "-f", "-t", "0", n]);
  }
});

Deno.test(`systemd host (${MONITOR_NAME}): run from a systemd service (INVOCATION_ID, as Quadlet units do), the monitor stays in the service's cgroup`, async () => {
  const n = name("unit");
  const env = Deno.env.toObject();
  assert(env.INVOCATION_ID, "the lane runs in a systemd service");
  const r = await podman(["run", "-d", "--name", n, ...RUN, "sleep", "100"], undefined, env);
  assert.equal(r.code, 0, r.stderr);
  try {
    const info = await podman(["inspect", n, "--format", "{{.Id}} {{.State.ConmonPid}}"]);
    const [id, monitorPid] = info.stdout.trim().split(" ");
    const own = Deno.readTextFileSync("/proc/self/cgroup").trim();
    assert.equal(Deno.readTextFileSync(`/proc/${monitorPid}/cgroup`).trim(), own);
    assert.equal(
      (await sh("systemctl", ["is-active", `libpod-${id}.scope`])).stdout.trim(),
      "active",
    );
  } finally {
    await podman(["rm", "-f", "-t", "0", n]);
  }
});

Deno.test(`systemd host (${MONITOR_NAME}): output goes to the journal, podman logs reads it back, events come from journald`, async () => {
  const n = name("journal");
  const since = new Date(Date.now() - 2000).toISOString();
  const r = await podman([
    "run",
    "--name",
    n,
    ...RUN,
    "sh",
    "-c",
    "echo out-line; echo err-line >&2; exit 5",
  ]);
  assert.equal(r.code, 5, r.stderr);
  try {
    const id = (await podman(["inspect", n, "--format", "{{.Id}}"])).stdout.trim();
    const logs = await podman(["logs", n]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, "out-line\n");
    assert.equal(logs.stderr, "err-line\n");
    // journald may take a moment to make the entries visible to readers.
    let j = "";
    for (let i = 0; i < 50 && !/err-line/.test(j); i++) {
      j = (await sh("journalctl", ["--no-pager", "-o", "json", `CONTAINER_NAME=${n}`])).stdout;
      if (!/err-line/.test(j)) await new Promise((r) => setTimeout(r, 200));
    }
    const entries = j.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const byMsg = Object.fromEntries(entries.map((e) => [e.MESSAGE, e]));
    // conmon keeps the newline in MESSAGE: a line as the container wrote it.
    assert.deepEqual(Object.keys(byMsg).sort(), ["err-line\n", "out-line\n"]);
    assert.equal(byMsg["out-line\n"].PRIORITY, "6");
    assert.equal(byMsg["err-line\n"].PRIORITY, "3");
    assert.equal(byMsg["out-line\n"].CONTAINER_ID_FULL, id);
    assert.equal(byMsg["out-line\n"].CONTAINER_ID, id.slice(0, 12));
    assert.equal(byMsg["out-line\n"].CONTAINER_NAME, n);
    const ev = await podman(eventsArgs(since, n, "died", "{{.Status}} {{.ContainerExitCode}}"));
    assert.equal(ev.code, 0, ev.stderr);
    assert.equal(ev.stdout.trim(), "died 5");
  } finally {
    await podman(["rm", "-f", "-t", "0", n]);
  }
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));

// The stock cgroup manager is systemd's.
const CONMON_OOM = conmonOomKnown(true);

Deno.test(`systemd host (${MONITOR_NAME}): a neighbour's OOM kill is not this container's (podman stop reads OOMKilled=false)${conmonOomNote(CONMON_OOM)}`, async () => {
  // Before: ocimon took machine.slice's counter, which grows with every
  // sibling's kill, once this container's scope was gone: OOMKilled=true.
  const a = name("calm");
  const results: string[] = [];
  const r = await podman(["run", "-d", "--name", a, ...RUN, "sleep", "300"]);
  assert.equal(r.code, 0, r.stderr);
  try {
    // One round: each OOM kill costs ~30 s under TCG (the CI budget); the
    // integration lanes repeat the neighbour on cgroupfs.
    for (let round = 0; round < 1; round++) {
      const b = name("hog");
      const hog = await podman(
        [
          "run",
          "--name",
          b,
          "--memory",
          PODMAN_OOM_MEMORY,
          "--memory-swap",
          PODMAN_OOM_MEMORY,
          ...RUN,
          ...OOM_ARGS,
        ],
        120_000,
      ); // deno-fmt-ignore
      assert.equal(hog.code, 137, hog.stderr);
      results.push(
        (await podman(["inspect", b, "--format", "{{.State.OOMKilled}} {{.State.ExitCode}}"]))
          .stdout.trim(),
      );
      if (!IS_CONMON && await monitorHasSyslog(a)) await assertOomJournalled(b);
      await podman(["rm", "-f", "-t", "0", b]);
    }
    assertOomVerdicts(results, CONMON_OOM);
    const stop = await podman(["stop", "-t", "1", a]);
    assert.equal(stop.code, 0, stop.stderr);
    const st = await podman(["inspect", a, "--format", "{{.State.OOMKilled}} {{.State.ExitCode}}"]);
    assert.equal(st.stdout.trim(), "false 137", "the stopped neighbour");
  } finally {
    await podman(["rm", "-f", "-t", "0", a]);
  }
});

/**
 * Whether podman gave the container's monitor --syslog: podman 5 always
 * does, podman 4 only at --log-level debug (then no journal entry is due).
 */
async function monitorHasSyslog(container: string): Promise<boolean> {
  const pid = (await podman(["inspect", container, "--format", "{{.State.ConmonPid}}"])).stdout
    .trim();
  const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  const has = argv.includes("--syslog");
  if (!has) console.log("podman passed no --syslog to the monitor: no journal entry is due");
  return has;
}

/** ocimon says each OOM kill in the journal, under a MESSAGE_ID of its own. */
async function assertOomJournalled(container: string) {
  let out = "";
  for (let i = 0; i < 50 && !out; i++) {
    out = (await sh("journalctl", [
      "--no-pager",
      "-o",
      "json",
      `MESSAGE_ID=${OOM_KILL_MESSAGE_ID}`,
      `CONTAINER_NAME=${container}`,
    ])).stdout.trim();
    if (!out) await new Promise((r) => setTimeout(r, 200));
  }
  assert(out, `no OOM kill entry for ${container} in the journal`);
  const entry = JSON.parse(out.split("\n")[0]);
  assert.match(
    entry.MESSAGE,
    /OOM kill in container .*: .* \(pid \d+, the container's main process/,
  );
  assert.equal(entry.SYSLOG_IDENTIFIER, "ocimon");
}

/**
 * Rootless podman on a systemd host, stock configuration: an unprivileged
 * user with a systemd user session (loginctl enable-linger, so user@UID
 * runs with XDG_RUNTIME_DIR and a session bus), podman run as that user with
 * only the monitor (OCIMON_BIN: ocimon, or /usr/bin/conmon, the control) and the runtime
 * chosen. There the container's cgroup is delegated to the user's slice and
 * oom_score_adj cannot go below the inherited value. Runs as root in the
 * systemd VM, which it changes (a user, lingering): tests/systemd only.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureRootfs, OOM_ARGS, PODMAN_OOM_MEMORY } from "../support/bundle.ts";
import { MONITOR_NAME, OCIMON_BIN, RUNTIME } from "../support/env.ts";
import { exists, run as runCommand, sleep } from "../support/harness.ts";
import { assertOomVerdicts, conmonOomKnown, conmonOomNote } from "../support/podman.ts";

const OOM_RUNS = Number(Deno.env.get("OCIMON_ROOTLESS_OOM_RUNS") ?? 2);
const USER = "ocimonuser";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

// Generous: the first rootless podman command sets up the user's storage, and a loaded TCG VM
// took over a minute for `podman info`.
const run = (cmd: string[], env?: Record<string, string>, ms = 180_000): Promise<Result> =>
  runCommand(cmd, { env, timeoutMs: ms });

/** The user, its subordinate ids and its lingering systemd user session. */
async function setUp(): Promise<{ uid: number; home: string; rootfs: string }> {
  if ((await run(["id", "-u", USER])).code !== 0) {
    const r = await run(["useradd", "--create-home", "--shell", "/bin/sh", USER]);
    assert.equal(r.code, 0, r.stderr);
  }
  const uid = Number((await run(["id", "-u", USER])).stdout.trim());
  for (const f of ["/etc/subuid", "/etc/subgid"]) {
    const text = Deno.readTextFileSync(f);
    if (!text.split("\n").some((l) => l.startsWith(`${USER}:`))) {
      Deno.writeTextFileSync(f, `${USER}:200000:65536\n`, { append: true });
    }
  }
  const linger = await run(["loginctl", "enable-linger", USER]);
  assert.equal(linger.code, 0, linger.stderr);
  const bus = `/run/user/${uid}/bus`;
  for (let i = 0; !exists(bus); i++) {
    assert(i < 300, `no user session bus at ${bus} 30 s after enable-linger`);
    await sleep(100);
  }
  const home = (await run(["sh", "-c", `getent passwd ${USER} | cut -d: -f6`])).stdout.trim();
  // The user's own rootfs: podman writes /etc/hosts and friends into it.
  const dir = join(home, "ctr");
  const rootfs = ensureRootfs(dir);
  assert.equal((await run(["chown", "-R", `${USER}:${USER}`, dir])).code, 0);
  return { uid, home, rootfs };
}

const setup = await setUp();
const RUN = ["--network", "none", "--rootfs", setup.rootfs];

/** podman as the user, in its home, with the session's environment and nothing else. */
function podman(args: string[], ms?: number): Promise<Result> {
  return run(
    ["runuser", "-u", USER, "--", "podman", "--runtime", RUNTIME, "--conmon", OCIMON_BIN, ...args],
    {
      HOME: setup.home,
      USER,
      LOGNAME: USER,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      XDG_RUNTIME_DIR: `/run/user/${setup.uid}`,
      DBUS_SESSION_BUS_ADDRESS: `unix:path=/run/user/${setup.uid}/bus`,
    },
    ms,
  );
}

// Rootless podman's stock cgroup manager is systemd (the user's own).
const CONMON_OOM = conmonOomKnown(true);

let seq = 0;
const name = (what: string) => `rl-${what}-${Deno.pid}-${++seq}`;

Deno.test(`rootless (${MONITOR_NAME}): stock configuration, the monitor runs as the user; output and exit codes`, async () => {
  const info = await podman([
    "info",
    "--format",
    "{{.Host.Security.Rootless}} {{.Host.CgroupManager}} {{.Host.LogDriver}} {{.Host.CgroupControllers}}",
  ]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(
    info.stdout,
    /^true systemd journald \[.*\bmemory\b.*\]$/m,
    "memory delegated to the user",
  );
  const hello = await podman(["run", "--rm", ...RUN, "echo", "hello"]);
  assert.equal(hello.code, 0, hello.stderr);
  assert.equal(hello.stdout, "hello\n");
  const n = name("exit");
  const r = await podman(["run", "--name", n, ...RUN, "sh", "-c", "echo to-stderr >&2; exit 3"]);
  try {
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /to-stderr/);
  } finally {
    await podman(["rm", "-f", "-t", "0", n]);
  }
});

Deno.test(`rootless (${MONITOR_NAME}): run -d, logs from the journal, stop delivers SIGTERM`, async () => {
  const n = name("stop");
  const script = 'trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 0.1; done';
  const r = await podman(["run", "-d", "--name", n, ...RUN, "sh", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  try {
    for (let i = 0; (await podman(["logs", n])).stdout !== "started\n"; i++) {
      assert(i < 100, "podman logs never showed the first line");
      await sleep(300);
    }
    const monitorPid = (await podman(["inspect", n, "--format", "{{.State.ConmonPid}}"])).stdout;
    const status = Deno.readTextFileSync(`/proc/${monitorPid.trim()}/status`);
    assert.match(
      status,
      new RegExp(`^Uid:\\s+${setup.uid}\\s`, "m"),
      "the monitor runs as the user",
    );
    const stop = await podman(["stop", "-t", "10", n]);
    assert.equal(stop.code, 0, stop.stderr);
    const st = await podman(["inspect", n, "--format", "{{.State.ExitCode}} {{.State.OOMKilled}}"]);
    assert.equal(st.stdout.trim(), "7 false");
    assert.equal((await podman(["logs", n])).stdout, "started\ngot-term\n");
  } finally {
    await podman(["rm", "-f", "-t", "0", n]);
  }
});

Deno.test({
  name:
    `rootless (${MONITOR_NAME}): OOM under --memory ${PODMAN_OOM_MEMORY} reports OOMKilled=true, exit 137, ${OOM_RUNS} of ${OOM_RUNS}` +
    conmonOomNote(CONMON_OOM),
  async fn() {
    const results: string[] = [];
    for (let i = 0; i < OOM_RUNS; i++) {
      const n = name("oom");
      const r = await podman([
        "run",
        "-d",
        "--name",
        n,
        "--memory",
        PODMAN_OOM_MEMORY,
        "--memory-swap",
        PODMAN_OOM_MEMORY,
        ...RUN,
        ...OOM_ARGS,
      ]);
      try {
        assert.equal(r.code, 0, r.stderr);
        await podman(["wait", n], 30_000);
        const st = await podman([
          "inspect",
          n,
          "--format",
          "{{.State.OOMKilled}} {{.State.ExitCode}}",
        ]);
        results.push(st.stdout.trim());
      } finally {
        await podman(["rm", "-f", "-t", "0", n]);
      }
    }
    assertOomVerdicts(results, CONMON_OOM);
  },
});

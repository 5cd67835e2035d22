/**
 * `podman container checkpoint` and `podman container restore` with CRIU,
 * the monitor under test (OCIMON_BIN: ocimon, or /usr/bin/conmon, the
 * control) as podman's --conmon: podman runs the monitor with
 * `--restore CHECKPOINT` (and its --runtime-opt options), the monitor runs
 * `runtime restore --detach --image-path … --work-path BUNDLE` instead of
 * `create`, and reports the restored container's pid on the sync pipe.
 *
 * - A container that counts in memory goes on counting from where it was
 *   (not from 1), with its logs; the restored container's monitor
 *   (ConmonPid) is the monitor under test; `podman stop` and `wait` give the
 *   exit code of the restored process's own SIGTERM trap.
 * - A restore that fails (a checkpoint with its process tree image
 *   removed) is reported as a failed create: podman says why, the container
 *   stays exited, and no monitor or runtime state is left behind.
 *
 * Where CRIU cannot work (`criu` missing, or `criu check` failing: Debian 12's
 * criu 3.17 on newer kernels) each test reports itself skipped, naming the
 * reason. Needs systemd as PID 1 and root (tests/systemd: the systemd VM
 * lane's podman part, on the Debian sid root, where criu is installed).
 */
import assert from "node:assert/strict";
import { ensureRootfs } from "../support/bundle.ts";
import { IS_CONMON, MONITOR_NAME, OCIMON_BIN, RUNTIME } from "../support/env.ts";
import { exists, isAlive, processesMentioning, run, sleep } from "../support/harness.ts";

const base = Deno.makeTempDirSync({ dir: "/tmp", prefix: "ockpt" });

/** Why CRIU cannot work here, or "" where `criu check` passes. */
async function criuMissing(): Promise<string> {
  let r;
  try {
    r = await run(["criu", "check"], { timeoutMs: 120_000 });
  } catch {
    return "criu is not installed";
  }
  if (r.code === 0) return "";
  const lines = `${r.stdout}\n${r.stderr}`.split("\n").map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? `exit ${r.code}`;
  return `criu check fails: ${error}`;
}

/**
 * In the VM (its root is thrown away at power-off): CRIU's network lock
 * through nf_tables (libnftables, a dependency of criu) where criu's default,
 * iptables, would need iptables-restore, which the sid root lacks. runc and
 * crun read /etc/criu/runc.conf and crun.conf, criu itself default.conf.
 */
function configureCriu(): void {
  if (!Deno.env.get("OCIMON_VM_GUEST")) return;
  Deno.mkdirSync("/etc/criu", { recursive: true });
  for (const f of ["default", "runc", "crun"]) {
    const path = `/etc/criu/${f}.conf`;
    if (!exists(path)) Deno.writeTextFileSync(path, "network-lock nftables\n");
  }
}

configureCriu();
const MISSING = await criuMissing();
const SKIP = MISSING ? ` [skipped: ${MISSING}]` : "";

/** The lane runs in a systemd service; a user at a shell has no INVOCATION_ID. */
const USER_ENV = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([k]) => k !== "INVOCATION_ID"),
);

const podman = (args: string[], ms = 180_000) =>
  run(["podman", "--runtime", RUNTIME, "--conmon", OCIMON_BIN, ...args], {
    cwd: base,
    env: USER_ENV,
    timeoutMs: ms,
  });

let seq = 0;
const name = (what: string) => `ckpt-${what}-${MONITOR_NAME}-${Deno.pid}-${++seq}`;

async function inspect(n: string, format: string): Promise<string> {
  const r = await podman(["inspect", n, "--format", format]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** Counts in a shell variable, one number a line; SIGTERM makes it exit 7. */
const COUNTER = "trap 'exit 7' TERM; i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done";

/** The numbers the container logged so far. */
async function counted(n: string): Promise<number[]> {
  const r = await podman(["logs", n]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => /^\d+$/.test(l)).map(Number);
}

/** Waits until the container has logged more than `n` numbers. */
async function countPast(c: string, n: number, ms = 60_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await counted(c);
    if (got.length > n) return got;
    assert(Date.now() < deadline, `${c} logged ${got.length} numbers, not past ${n}, in ${ms} ms`);
    await sleep(500);
  }
}

/** The monitor's command line, from /proc. */
function cmdline(pid: number): string[] {
  return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
}

/**
 * ConmonPid is the monitor under test (conmon's binary, or ocimon's entry
 * point), watching container `id`, and the one podman started to restore it.
 */
function assertRestoringMonitor(pid: number, id: string): void {
  assert(isAlive(pid), `ConmonPid ${pid} is not alive`);
  const argv = cmdline(pid);
  const what = `ConmonPid ${pid}: ${argv.join(" ")}`;
  if (IS_CONMON) assert.equal(argv[0], OCIMON_BIN, what);
  else assert(argv.some((a) => /ocimon|src\/main\.ts$/.test(a)), what);
  assert.equal(argv[argv.indexOf("-c") + 1], id, what);
  assert(argv.includes("--restore"), what);
}

/** The monitors (conmon, ocimon) whose command line names container `id`. */
function monitorsOf(id: string): string[] {
  return processesMentioning(id).map((p) => p.cmd).filter((c) =>
    /conmon|ocimon|src\/main\.ts/.test(c) && !/^(\S*\/)?podman /.test(c)
  );
}

/** The runc/crun state directory's entries for a container, if any. */
async function runtimeKnows(id: string): Promise<boolean> {
  const r = await run([RUNTIME, "--root", runtimeRoot(), "list", "-q"]);
  return r.stdout.split("\n").includes(id);
}

/** podman's state root for the runtime (root, systemd): /run/runc or /run/crun. */
function runtimeRoot(): string {
  return RUNTIME.endsWith("crun") ? "/run/crun" : "/run/runc";
}

/** Starts the counting container `n`, detached. */
async function startCounter(n: string): Promise<void> {
  const argv = ["--network", "none", "--rootfs", ensureRootfs(base), "sh", "-c", COUNTER];
  const r = await podman(["run", "-d", "--name", n, ...argv]);
  assert.equal(r.code, 0, r.stderr);
}

Deno.test({
  name: `checkpoint and restore (${MONITOR_NAME}, ${RUNTIME.split("/").pop()}): ` +
    `the count goes on after the restore, with its logs; stop and wait give the exit code; ` +
    `the restored container's monitor is ${MONITOR_NAME}` + SKIP,
  ignore: MISSING !== "",
  async fn() {
    const n = name("count");
    await startCounter(n);
    try {
      await countPast(n, 5);
      const cp = await podman(["container", "checkpoint", n]);
      assert.equal(cp.code, 0, `checkpoint: ${cp.stdout}${cp.stderr}`);
      assert.equal(await inspect(n, "{{.State.Status}}"), "exited");
      const before = await counted(n);
      const last = before.at(-1)!;
      assert.deepEqual(before, before.map((_, i) => i + 1), "1, 2, 3… up to the checkpoint");
      await sleep(1000);

      const rs = await podman(["container", "restore", n]);
      assert.equal(rs.code, 0, `restore: ${rs.stdout}${rs.stderr}`);
      assert.equal(await inspect(n, "{{.State.Status}}"), "running");
      const [id, monitor] = (await inspect(n, "{{.Id}} {{.State.ConmonPid}}")).split(" ");
      assertRestoringMonitor(Number(monitor), id);

      const after = await countPast(n, before.length + 5);
      // The numbers go on from the checkpoint's: nothing starts over at 1.
      assert.deepEqual(
        after,
        after.map((_, i) => i + 1),
        `the count after the restore: ${after.join(" ")}`,
      );
      assert(after.length > last + 5, `no count past ${last} after the restore`);
      console.log(
        `${MONITOR_NAME}: counted to ${last} before the checkpoint, ${
          after.at(-1)
        } after the restore`,
      );

      const stop = await podman(["stop", "-t", "20", n]);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(
        (await podman(["wait", n])).stdout.trim(),
        "7",
        "the restored process's TERM trap",
      );
      assert.equal(await inspect(n, "{{.State.ExitCode}}"), "7");
    } finally {
      await podman(["rm", "-f", "-t", "0", n]);
    }
  },
});

Deno.test({
  name: `a restore that fails (${MONITOR_NAME}, ${RUNTIME.split("/").pop()}): ` +
    `reported as a failed create, the container left exited, no monitor or runtime state behind` +
    SKIP,
  ignore: MISSING !== "",
  async fn() {
    const n = name("broken");
    await startCounter(n);
    try {
      await countPast(n, 3);
      const cp = await podman(["container", "checkpoint", n]);
      assert.equal(cp.code, 0, `checkpoint: ${cp.stdout}${cp.stderr}`);
      const [id, bundle] = (await inspect(n, "{{.Id}} {{.StaticDir}}")).split(" ");
      // Without its process tree CRIU has nothing to restore.
      Deno.removeSync(`${bundle}/checkpoint/pstree.img`);
      const rs = await podman(["container", "restore", n]);
      assert.notEqual(rs.code, 0, "the restore succeeded without pstree.img");
      console.log(`${MONITOR_NAME}: podman container restore said: ${rs.stderr.trim()}`);
      // The runtime's own words, which the monitor passed on the sync pipe.
      assert.match(rs.stderr, /OCI runtime error: \S*(runc|crun)/);
      assert.equal(await inspect(n, "{{.State.Status}}"), "exited");
      assert(!(await runtimeKnows(id)), `${RUNTIME} still lists ${id}`);
      // The monitor went with the failed restore (podman's cleanup may still be on its way out).
      let left = monitorsOf(id);
      for (let i = 0; left.length > 0 && i < 100; i++) {
        await sleep(100);
        left = monitorsOf(id);
      }
      assert.deepEqual(left, [], `a monitor of ${id} is left`);
    } finally {
      await podman(["rm", "-f", "-t", "0", n]);
    }
  },
});

addEventListener("unload", () => {
  try {
    Deno.removeSync(base, { recursive: true });
  } catch { /* in use */ }
});

/**
 * What podman 5.8 expects of its monitor beyond what tests/podman checks,
 * with podman's stock configuration on a systemd host:
 * - `-P` (--conmon-pidfile) names the long-lived monitor, the pid podman
 *   records as ConmonPid (CRI-O 1.34 probes that pid and its start time);
 * - from podman 5.6 an exec session's pid is checked by pidfd and start
 *   time, so the monitor must report the exec'd process itself;
 * - `podman exec --no-session` and healthchecks read the exec's exit file
 *   within 5 s of the exec's end (libpod's readExecExitCode), or report no
 *   exit code at all;
 * - from podman 5.5 cleanup removes the persist directory (--persist-dir),
 *   so nothing of the monitor's may appear there once the container exited.
 * On an older podman each test reports itself skipped, naming the version.
 * OCIMON_BIN=/usr/bin/conmon is the control. Needs systemd as PID 1
 * (tests/systemd: the systemd VM lane, on the Debian sid root).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureRootfs } from "../support/bundle.ts";
import { MONITOR_NAME, OCIMON_BIN, RUNTIME } from "../support/env.ts";
import { exists, isAlive, run, sleep } from "../support/harness.ts";
import { eventsArgs, PODMAN_VERSION, podmanAtLeast } from "../support/podman.ts";

const HERE = podmanAtLeast(5, 8);
const SKIP = HERE
  ? ""
  : ` [skipped: podman ${PODMAN_VERSION} here; these are podman 5.8's expectations]`;

const base = Deno.makeTempDirSync({ dir: "/tmp", prefix: "op58" });
const RUN = ["--network", "none", "--rootfs", ensureRootfs(base)];

/** The lane runs in a systemd service; a user at a shell has no INVOCATION_ID. */
const USER_ENV = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([k]) => k !== "INVOCATION_ID"),
);

const podman = (args: string[], ms = 120_000) =>
  run(["podman", "--runtime", RUNTIME, "--conmon", OCIMON_BIN, ...args], {
    cwd: base,
    env: USER_ENV,
    timeoutMs: ms,
  });

let seq = 0;
const name = (what: string) => `p58-${what}-${MONITOR_NAME}-${Deno.pid}-${++seq}`;

async function inspect(n: string, format: string): Promise<string> {
  const r = await podman(["inspect", n, "--format", format]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** A process's start time (clock ticks after boot: /proc/PID/stat, field 22), or undefined. */
function startTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** A directory's entries, or none once podman's cleanup has removed it (it may at any moment). */
function entries(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** A monitor option's value, from its command line. */
function monitorOption(pid: number, option: string): string {
  const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  const i = argv.indexOf(option);
  assert(i >= 0, `${option} not on the monitor's command line: ${argv.join(" ")}`);
  return argv[i + 1];
}

/**
 * A detached container that waits for `go` in a directory it sees as /m, then
 * exits 4; `body` gets its name, that directory and the monitor's pid.
 */
async function withWaiting(
  what: string,
  body: (n: string, dir: string, monitor: number) => Promise<void>,
): Promise<void> {
  const n = name(what);
  const dir = Deno.makeTempDirSync({ dir: base });
  const script = "while [ ! -e /m/go ]; do sleep 0.2; done; exit 4";
  const r = await podman(["run", "-d", "--name", n, "-v", `${dir}:/m`, ...RUN, "sh", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  try {
    await body(n, dir, Number(await inspect(n, "{{.State.ConmonPid}}")));
  } finally {
    Deno.writeTextFileSync(join(dir, "go"), "");
    await podman(["rm", "-f", "-t", "0", n]);
  }
}

Deno.test({
  name:
    `podman 5.8 (${MONITOR_NAME}): -P names the monitor, alive with the same start time until the container exits` +
    SKIP,
  ignore: !HERE,
  async fn() {
    await withWaiting("pidfile", async (n, dir, monitor) => {
      const [id, pidFile] = (await inspect(n, "{{.Id}} {{.ConmonPidFile}}")).split(" ");
      assert.equal(Deno.readTextFileSync(pidFile).trim(), String(monitor), "-P holds ConmonPid");
      assert.equal(monitorOption(monitor, "-c"), id, "ConmonPid is this container's monitor");
      const started = startTime(monitor);
      assert(started, "the monitor runs");
      // An exec in between: the pid stays the same process.
      const ex = await podman(["exec", n, "true"]);
      assert.equal(ex.code, 0, ex.stderr);
      assert.equal(startTime(monitor), started, "the same process after an exec");
      assert.equal(Deno.readTextFileSync(pidFile).trim(), String(monitor));
      Deno.writeTextFileSync(join(dir, "go"), "");
      assert.equal((await podman(["wait", n])).stdout.trim(), "4");
      // It goes once it has reported the exit (and started podman's cleanup).
      for (let i = 0; isAlive(monitor) && startTime(monitor) === started; i++) {
        assert(i < 300, "the monitor outlived its container by 30 s");
        await sleep(100);
      }
    });
  },
});

Deno.test({
  name:
    `podman 5.8 (${MONITOR_NAME}): exec -d: the session's pid is the exec'd process (running, it cannot be cleaned up); its exit code comes back` +
    SKIP,
  ignore: !HERE,
  async fn() {
    await withWaiting("execd", async (n, dir) => {
      const script = "while [ ! -e /m/exec-go ]; do sleep 0.2; done; exit 6";
      const d = await podman(["exec", "-d", n, "sh", "-c", script]);
      assert.equal(d.code, 0, d.stderr);
      const session = d.stdout.trim();
      assert.match(session, /^[0-9a-f]{64}$/);
      // podman asks the session's pid (by pidfd and start time) whether it runs.
      const busy = await podman(["container", "cleanup", "--exec", session, n]);
      assert.notEqual(busy.code, 0, "a running exec session was cleaned up");
      assert.match(busy.stderr, /as it is running/);
      const since = new Date(Date.now() - 60_000).toISOString();
      Deno.writeTextFileSync(join(dir, "exec-go"), "");
      // The monitor's exit command cleans the session up; podman reads its exit file.
      let codes = "";
      for (let i = 0; !/^6$/m.test(codes); i++) {
        assert(i < 60, `no exec_died event with exit code 6: ${JSON.stringify(codes)}`);
        await sleep(1000);
        const ev = await podman(eventsArgs(since, n, "exec_died", "{{.ContainerExitCode}}"));
        assert.equal(ev.code, 0, ev.stderr);
        codes = ev.stdout.trim();
      }
    });
  },
});

Deno.test({
  name:
    `podman 5.8 (${MONITOR_NAME}): exec --no-session and healthcheck run get the exec's exit code (its exit file read within 5 s)` +
    SKIP,
  ignore: !HERE,
  async fn() {
    await withWaiting("nosession", async (n) => {
      const t0 = Date.now();
      const ns = await podman(["exec", "--no-session", n, "sh", "-c", "echo ns-out; exit 5"]);
      console.log(`${MONITOR_NAME}: exec --no-session took ${Date.now() - t0} ms`);
      assert.equal(ns.code, 5, ns.stderr);
      assert.equal(ns.stdout, "ns-out\n");
      assert.doesNotMatch(ns.stderr, /timed out|exit file/i);
    });
    // podman reports a healthcheck whose exit file it could not read as unhealthy.
    for (const [code, verdict, status] of [[0, 0, "healthy"], [1, 1, "unhealthy"]] as const) {
      const n = name(`health${code}`);
      const r = await podman([
        "run",
        "-d",
        "--name",
        n,
        "--health-cmd",
        `sh -c 'exit ${code}'`,
        "--health-interval",
        "0",
        "--health-retries",
        "1",
        ...RUN,
        "sleep",
        "300",
      ]);
      assert.equal(r.code, 0, r.stderr);
      try {
        const t0 = Date.now();
        const h = await podman(["healthcheck", "run", n]);
        console.log(`${MONITOR_NAME}: healthcheck run (exit ${code}) took ${Date.now() - t0} ms`);
        assert.equal(h.code, verdict, `${h.stdout}${h.stderr}`);
        const health = JSON.parse(await inspect(n, "{{json .State.Health}}"));
        assert.equal(health.Status, status);
        assert.equal(health.Log.at(-1).ExitCode, code, JSON.stringify(health.Log));
      } finally {
        await podman(["rm", "-f", "-t", "0", n]);
      }
    }
  },
});

Deno.test({
  name:
    `podman 5.8 (${MONITOR_NAME}): the persist directory is gone once the container exited and podman cleaned up, and stays gone; a second start likewise` +
    SKIP,
  ignore: !HERE,
  async fn() {
    await withWaiting("persist", async (n, dir, first) => {
      let monitor = first;
      const persist = monitorOption(monitor, "--persist-dir");
      assert(exists(persist), `${persist} while the container runs`);
      for (const run of [1, 2]) {
        Deno.writeTextFileSync(join(dir, "go"), "");
        assert.equal((await podman(["wait", n])).stdout.trim(), "4");
        // The monitor's exit command is podman's cleanup, which removes the directory.
        for (let i = 0; isAlive(monitor) || exists(persist); i++) {
          if (i >= 300) {
            assert.fail(
              `run ${run}: monitor alive ${isAlive(monitor)}, ${persist} holds [${
                entries(persist)
              }]`,
            );
          }
          await sleep(100);
        }
        await sleep(2000);
        assert(!exists(persist), `run ${run}: ${persist} came back after the monitor exited`);
        assert.equal(await inspect(n, "{{.State.ExitCode}} {{.State.OOMKilled}}"), "4 false");
        if (run === 2) break;
        Deno.removeSync(join(dir, "go"));
        const s = await podman(["start", n]);
        assert.equal(s.code, 0, s.stderr);
        monitor = Number(await inspect(n, "{{.State.ConmonPid}}"));
        assert.equal(monitorOption(monitor, "--persist-dir"), persist);
      }
    });
  },
});

addEventListener("unload", () => {
  try {
    Deno.removeSync(base, { recursive: true });
  } catch { /* in use */ }
});

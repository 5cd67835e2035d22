/**
 * The create-to-exit path with a real runtime, driven as podman drives
 * conmon: daemonized, sync pipe, `runtime start` by the caller, exit file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  exists,
  launchMonitor,
  processesMentioning,
  readIfExists,
  run,
  sleep,
  waitFor,
} from "../support/harness.ts";
import { RUNTIME } from "../support/env.ts";

Deno.test("exit 0: output reaches the k8s-file log, exit file 0, status written first", async () => {
  const c = await launchMonitor({ name: "hello", args: ["sh", "-c", "echo hello; echo oops >&2"] });
  try {
    assert.equal(c.launcher.code, 0, c.launcherStderr);
    const msg = await c.sync.next();
    assert(msg && typeof msg.data === "number" && msg.data > 0, JSON.stringify(msg));
    const pid = msg.data;
    assert.equal(Number(readIfExists(c.containerPidfile)), pid);
    await c.start();
    assert.equal(await c.exitCode(), "0");
    const st = c.status();
    assert.equal(st.exitCode, 0);
    assert.equal(st.signal, null);
    assert.equal(st.oomKilled, false);
    assert.equal(st.pid, pid);
    assert.equal(readIfExists(join(c.persistDir, "exit")), "0");
    const log = c.log();
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d stdout F hello$/m);
    assert.match(log, / stderr F oops$/m);
    assert(!exists(join(c.bundle, "oom")), "no oom file for a clean exit");
  } finally {
    await c.cleanup();
  }
});

Deno.test("exit 3: exit file 3, no oom file", async () => {
  const c = await launchMonitor({ name: "three", args: ["sh", "-c", "exit 3"] });
  try {
    assert.equal((await c.sync.next())?.data !== -1, true);
    await c.start();
    assert.equal(await c.exitCode(), "3");
    assert.equal(c.status().exitCode, 3);
    assert(!exists(join(c.bundle, "oom")));
    assert(!exists(join(c.persistDir, "oom")));
  } finally {
    await c.cleanup();
  }
});

Deno.test("killed by SIGTERM: exit file 143, status names the signal", async () => {
  // No pid namespace: the process is not an init, so SIGTERM kills it.
  const c = await launchMonitor({ name: "term", args: ["sleep", "100"], pidNamespace: false });
  try {
    const pid = (await c.sync.next())?.data as number;
    await c.start();
    await sleep(100);
    Deno.kill(pid, "SIGTERM");
    assert.equal(await c.exitCode(), "143");
    assert.equal(c.status().signal, "SIGTERM");
  } finally {
    await c.cleanup();
  }
});

Deno.test("pidfiles: conmon pidfile names the live monitor, which leaves after exit", async () => {
  const c = await launchMonitor({ name: "pids", args: ["sleep", "2"] });
  try {
    await c.sync.next();
    const monitor = c.monitorPid();
    const cmdline = Deno.readTextFileSync(`/proc/${monitor}/cmdline`);
    assert(cmdline.includes(c.cid), "the pidfile names the monitor of this container");
    const ppidOf = (pid: number) =>
      Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ")[1];
    assert(ppidOf(monitor) !== String(Deno.pid), "the monitor is detached from its caller");
    await c.start();
    assert.equal(await c.exitCode(), "0");
    await waitFor(
      () => (exists(`/proc/${monitor}`) ? undefined : true),
      3000,
      "the monitor to exit",
    );
  } finally {
    await c.cleanup();
  }
});

Deno.test("missing executable: sync pipe reports the runtime's error, nothing left behind", async () => {
  const c = await launchMonitor({ name: "noexec", args: ["/bin/nonexistent"] });
  try {
    const msg = await c.sync.next();
    assert.equal(msg?.data, -1);
    assert.match(String(msg?.message), /nonexistent/);
    const t0 = Date.now();
    await waitFor(
      () => (processesMentioning(c.cid).length === 0 ? true : undefined),
      2000,
      "no process of the container left",
    );
    assert(Date.now() - t0 < 2000);
    assert.equal(
      (await run([RUNTIME, "state", c.cid])).code !== 0,
      true,
      "runtime has no such container",
    );
  } finally {
    await c.cleanup();
  }
});

Deno.test("I/O set-up fails after create: the container is killed and deleted, nothing left", async () => {
  // The attach symlink's directory cannot be made: a file stands in its path.
  // That endpoint is made while `runtime create` runs, so the container exists.
  const blocker = await Deno.makeTempFile({ dir: "/tmp", prefix: "ocimon-blocker" });
  const c = await launchMonitor({
    name: "iofail",
    args: ["sleep", "600"],
    extra: ["--socket-dir-path", join(blocker, "sockets")],
  });
  try {
    const msg = await c.sync.next();
    assert.equal(msg?.data, -1);
    assert.match(String(msg?.message), /cannot set up the container's I\/O/);
    await waitFor(
      () => (processesMentioning(c.cid).length === 0 ? true : undefined),
      5000,
      "no process of the container left",
    );
    assert.notEqual(
      (await run([RUNTIME, "state", c.cid])).code,
      0,
      "runtime has no such container",
    );
    assert.equal(exists(join(c.bundle, "attach")), false, "no attach socket left");
    assert.equal(exists(join(c.bundle, "ctl")), false, "no ctl FIFO left");
  } finally {
    await c.cleanup();
    Deno.removeSync(blocker);
  }
});

Deno.test("--timeout kills the container: exit file -1 as conmon, and the status says so", async () => {
  const c = await launchMonitor({
    name: "timeout",
    args: ["sleep", "100"],
    extra: ["--timeout", "1"],
  });
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(10_000), "-1");
    const st = c.status();
    assert.equal(st.exitCode, -1);
    assert.equal(st.timedOut, true);
    assert.equal(st.signal, "SIGKILL");
    assert.equal(st.oomKilled, false);
  } finally {
    await c.cleanup();
  }
});

Deno.test("start pipe: the launcher blocks on it until released", async () => {
  const c = await launchMonitor({ name: "startpipe", args: ["true"], startPipe: true });
  try {
    assert((await c.sync.next())?.data as number > 0);
    await c.start();
    assert.equal(await c.exitCode(), "0");
  } finally {
    await c.cleanup();
  }
});

Deno.test("-i gives the container a stdin pipe; without it stdin is /dev/null", async () => {
  const probe = ["sh", "-c", "ls -l /proc/self/fd/0"];
  const withStdin = await launchMonitor({ name: "stdin", args: probe, extra: ["--stdin"] });
  const without = await launchMonitor({ name: "nostdin", args: probe });
  try {
    for (const c of [withStdin, without]) {
      await c.sync.next();
      await c.start();
      assert.equal(await c.exitCode(), "0");
    }
    assert.match(withStdin.log(), /pipe:\[/);
    assert.match(without.log(), /\/dev\/null/);
  } finally {
    await withStdin.cleanup();
    await without.cleanup();
  }
});

Deno.test("--sync: the monitor stays the caller's child and exits with the container's code", async () => {
  const c = await launchMonitor({
    name: "sync",
    args: ["sh", "-c", "exit 5"],
    extra: ["--sync"],
    noWait: true,
  });
  try {
    const pid = (await c.sync.next())?.data as number;
    assert.equal(
      c.monitorPid(),
      c.launcherPid,
      "with --sync the conmon pidfile names the process we started",
    );
    assert(pid > 0);
    await c.start();
    assert.equal(await c.exitCode(), "5");
    assert.equal((await c.waitLauncher()).code, 5);
  } finally {
    await c.cleanup();
  }
});

/**
 * OOM verdicts with real kernel OOM kills under a 16 MiB limit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, launchMonitor, removeWhenEmpty, waitFor } from "../support/harness.ts";
import { OOM_ARGS } from "../support/bundle.ts";
import { OCIMON_BIN, tempDir } from "../support/env.ts";
import { memoryCgroupOf } from "../../src/cgroup/paths.ts";

const LIMIT = 16 * 1024 * 1024;
const RUNS = Number(Deno.env.get("OCIMON_OOM_RUNS") ?? 20);

Deno.test(`OOM under 16 MiB: ${RUNS} of ${RUNS} runs report oomKilled, exit 137 and oom files`, async () => {
  const base = tempDir("oom-base"); // one rootfs for all runs
  const failures: string[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const c = await launchMonitor({ name: "oom", base, args: OOM_ARGS, memoryLimit: LIMIT });
      try {
        assert.equal(c.launcher.code, 0, c.launcherStderr);
        await c.sync.next();
        await c.start();
        const code = await c.exitCode();
        const st = c.status();
        const problems = [
          code !== "137" && `exit file ${code}`,
          st.oomKilled !== true && "oomKilled false",
          !(st.oomKillCount >= 1) && `oomKillCount ${st.oomKillCount}`,
          !exists(join(c.bundle, "oom")) && "no oom file in the bundle",
          !exists(join(c.persistDir, "oom")) && "no oom file in the persist dir",
          st.memory.limitBytes !== LIMIT && `limit ${st.memory.limitBytes}`,
        ].filter(Boolean);
        if (problems.length) failures.push(`run ${i + 1}: ${problems.join(", ")}`);
      } finally {
        await c.cleanup();
      }
    }
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
  assert.deepEqual(failures, [], `${failures.length} of ${RUNS} runs wrong`);
});

Deno.test("the oom file appears while the container still runs when a child is OOM-killed", async () => {
  // init survives: a child shell is killed, the parent notes it and lingers.
  const script =
    `sh -c 'x=0123456789abcdef; while :; do x=$x$x; done'; echo child-died; sleep 2; exit 0`;
  const c = await launchMonitor({
    name: "oomchild",
    args: ["sh", "-c", script],
    memoryLimit: LIMIT,
  });
  try {
    await c.sync.next();
    await c.start();
    await waitFor(
      () => (exists(join(c.bundle, "oom")) ? true : undefined),
      1900,
      "the oom file during the container's life",
    );
    assert(!exists(join(c.exitDir, c.cid)), "the container is still running");
    assert.equal(await c.exitCode(), "0");
    const st = c.status();
    assert.equal(st.exitCode, 0);
    assert.equal(st.oomKilled, true);
    assert.match(c.log(), /stdout F child-died/);
  } finally {
    await c.cleanup();
  }
});

Deno.test("a clean exit under a memory limit is not an OOM kill", async () => {
  const c = await launchMonitor({
    name: "nooom",
    args: ["sh", "-c", "exit 3"],
    memoryLimit: LIMIT,
  });
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(), "3");
    assert.equal(c.status().oomKilled, false);
    assert.equal(c.status().oomKillCount, 0);
    assert(!exists(join(c.bundle, "oom")));
  } finally {
    await c.cleanup();
  }
});

Deno.test("SIGKILL from outside is exit 137 without OOMKilled", async () => {
  const c = await launchMonitor({ name: "killed", args: ["sleep", "100"], memoryLimit: LIMIT });
  try {
    const pid = (await c.sync.next())?.data as number;
    await c.start();
    Deno.kill(pid, "SIGKILL");
    assert.equal(await c.exitCode(), "137");
    assert.equal(c.status().oomKilled, false);
    assert(!exists(join(c.bundle, "oom")));
  } finally {
    await c.cleanup();
  }
});

/** The memory cgroup directory of a live process, on v1 or v2. */
function memoryDirOf(pid: number): string {
  const cg = memoryCgroupOf(pid);
  assert(cg, `no memory cgroup for ${pid}`);
  return cg.dir;
}

/** The memory hierarchy's mount point on this host (v1 memory or v2). */
function memoryMount(): string {
  const cg = memoryCgroupOf("self");
  assert(cg, "no memory cgroup for the test");
  return cg.mountPoint;
}

Deno.test("victims: the init OOM-killed is named in the status file, with its RSS and cgroup", async () => {
  const c = await launchMonitor({ name: "victim", args: OOM_ARGS, memoryLimit: LIMIT });
  try {
    const pid = (await c.sync.next())?.data as number;
    await c.start();
    assert.equal(await c.exitCode(), "137");
    const st = c.status();
    assert.equal(st.version, 2);
    assert.equal(st.oomKilled, true);
    assert.equal(st.oom.victimsSource, "kmsg");
    assert.equal(st.oom.finalRead, true);
    const init = st.oom.victims.find((v: { pid: number }) => v.pid === pid);
    assert(init, `the init ${pid} among ${JSON.stringify(st.oom.victims)}`);
    assert.equal(init.comm, "sh");
    assert.equal(init.init, true);
    assert(init.anonRssBytes > 1048576, `anon RSS ${init.anonRssBytes}`);
    assert.equal(init.oomCgroup, st.cgroup.path);
    assert.equal(init.constraint, "CONSTRAINT_MEMCG");
    assert.equal(st.oom.initKilled, true);
    assert.equal(st.oom.globalOom, false);
    assert(st.oom.counters, "the counters at death");
  } finally {
    await c.cleanup();
  }
});

Deno.test("victims: a child OOM-killed while the init lives on and exits 0", async () => {
  const script = `sh -c 'x=0123456789abcdef; while :; do x=$x$x; done'; exit 0`;
  const c = await launchMonitor({
    name: "victimchild",
    args: ["sh", "-c", script],
    memoryLimit: LIMIT,
  });
  try {
    const pid = (await c.sync.next())?.data as number;
    await c.start();
    assert.equal(await c.exitCode(), "0");
    const st = c.status();
    assert.equal(
      st.oomKilled,
      true,
      "a child's kill is the container's (the oom files, as conmon)",
    );
    assert(exists(join(c.persistDir, "oom")));
    assert.equal(st.oom.initKilled, false);
    assert(st.oom.victims.length >= 1, JSON.stringify(st.oom));
    for (const v of st.oom.victims) {
      assert.notEqual(v.pid, pid);
      assert.equal(v.init, false);
    }
  } finally {
    await c.cleanup();
  }
});

Deno.test("victims: a limit on the parent (a pod's) names the parent as the cgroup whose limit was hit", async () => {
  const pod = `/ocimon-test/pod-${Deno.pid}`;
  const podDir = join(memoryMount(), pod);
  Deno.mkdirSync(podDir, { recursive: true });
  const v2 = exists(join(podDir, "memory.max"));
  Deno.writeTextFileSync(join(podDir, v2 ? "memory.max" : "memory.limit_in_bytes"), String(LIMIT));
  const c = await launchMonitor({ name: "podlimit", args: OOM_ARGS, cgroupsPath: `${pod}/ctr` });
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(), "137");
    const st = c.status();
    assert.equal(st.oomKilled, true);
    assert.equal(st.cgroup.path, `${pod}/ctr`);
    assert(st.oom.victims.length >= 1, JSON.stringify(st.oom));
    assert.equal(st.oom.victims[0].oomCgroup, pod);
  } finally {
    await c.cleanup();
    await removeWhenEmpty(podDir, 10_000, "the pod cgroup to empty");
  }
});

Deno.test("the neighbour's kill: a sibling OOM-killed, this cgroup removed before its final read: not OOMKilled", async () => {
  const parent = `/ocimon-test/nb-${Deno.pid}`;
  for (let round = 1; round <= 2; round++) {
    const a = await launchMonitor({
      name: "nba",
      args: ["sleep", "300"],
      cgroupsPath: `${parent}/a${round}`,
    });
    try {
      const pid = (await a.sync.next())?.data as number;
      const dir = memoryDirOf(pid);
      await a.start();
      const b = await launchMonitor({
        name: "nbb",
        args: OOM_ARGS,
        memoryLimit: LIMIT,
        cgroupsPath: `${parent}/b${round}`,
      });
      try {
        await b.sync.next();
        await b.start();
        assert.equal(await b.exitCode(), "137");
        assert.equal(b.status().oomKilled, true);
      } finally {
        await b.cleanup();
      }
      // Stopped from outside, its cgroup removed the moment it is empty, as
      // systemd removes an empty scope: racing the monitor's final read.
      Deno.kill(pid, "SIGKILL");
      await removeWhenEmpty(dir, 20_000, "the container's cgroup to empty");
      assert.equal(await a.exitCode(), "137");
      const st = a.status();
      assert.equal(st.oomKilled, false, `round ${round}: ${JSON.stringify(st.oom)}`);
      assert.equal(st.oomKillCount, 0);
      assert.deepEqual(st.oom.victims, []);
      assert(!exists(join(a.persistDir, "oom")), `round ${round}: no oom file`);
    } finally {
      await a.cleanup();
    }
  }
  try {
    Deno.removeSync(join(memoryMount(), parent));
  } catch { /* runc removes it on some versions */ }
});

const DMESG_RESTRICT = "/proc/sys/kernel/dmesg_restrict";

/** Runs `fn` with kernel.dmesg_restrict=1, then puts the old value back. */
async function withDmesgRestricted<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = Deno.readTextFileSync(DMESG_RESTRICT).trim();
  Deno.writeTextFileSync(DMESG_RESTRICT, "1");
  try {
    return await fn();
  } finally {
    Deno.writeTextFileSync(DMESG_RESTRICT, before);
  }
}

const DROP_SYSLOG = ["setpriv", "--bounding-set", "-syslog", "--inh-caps", "-syslog"];

/**
 * Whether root without CAP_SYSLOG is kept from /dev/kmsg here. Kernels that
 * still honour the deprecated CAP_SYS_ADMIN fallback (Debian's 6.1) let it
 * read, and the runtime needs CAP_SYS_ADMIN, so there the test cannot run.
 */
const KMSG_CLOSED_WITHOUT_SYSLOG = await withDmesgRestricted(() =>
  new Deno.Command(DROP_SYSLOG[0], {
    args: [...DROP_SYSLOG.slice(1), "dd", "if=/dev/kmsg", "iflag=nonblock", "count=0"],
    stderr: "null",
  }).outputSync().code !== 0
);

Deno.test({
  name: "/dev/kmsg unreadable (no CAP_SYSLOG, dmesg_restrict=1): the counters alone, and why" +
    (KMSG_CLOSED_WITHOUT_SYSLOG
      ? ""
      : " [skipped: this kernel lets CAP_SYS_ADMIN read /dev/kmsg, and the runtime needs it]"),
  ignore: !KMSG_CLOSED_WITHOUT_SYSLOG,
  async fn() {
    const dir = tempDir("nosyslog");
    const wrapper = join(dir, "ocimon-without-cap-syslog");
    Deno.writeTextFileSync(
      wrapper,
      `#!/bin/sh\nexec ${DROP_SYSLOG.join(" ")} ${OCIMON_BIN} "$@"\n`,
      {
        mode: 0o755,
      },
    );
    await withDmesgRestricted(async () => {
      const c = await launchMonitor({
        name: "nokmsg",
        args: OOM_ARGS,
        memoryLimit: LIMIT,
        bin: wrapper,
      });
      try {
        await c.sync.next();
        await c.start();
        assert.equal(await c.exitCode(), "137");
        const st = c.status();
        assert.equal(st.oomKilled, true, "the verdict stands on the counters");
        assert(st.oomKillCount >= 1);
        assert(exists(join(c.persistDir, "oom")));
        assert.deepEqual(st.oom.victims, []);
        assert.match(st.oom.victimsSource, /kmsg.*(CAP_SYSLOG|not permitted)/i);
      } finally {
        await c.cleanup();
      }
    });
    Deno.removeSync(dir, { recursive: true });
  },
});

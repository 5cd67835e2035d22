/**
 * OOM verdicts with real kernel OOM kills under a 16 MiB limit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, launchMonitor, waitFor } from "../support/harness.ts";
import { OOM_ARGS } from "../support/bundle.ts";
import { tempDir } from "../support/env.ts";

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

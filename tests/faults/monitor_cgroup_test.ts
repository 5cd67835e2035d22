/**
 * A monitor in a memory-limited cgroup of its own (CRI-O's conmon_cgroup =
 * "pod" puts it in the pod's). Measured 2026-12-07, a short container life
 * that logs: on this host (cgroup v1, runc) the cgroup's peak is 14.4-14.7
 * MiB (p10-p90); conmon's 3 MiB. With V8's --minor-ms (13.5-13.8 MiB; taken
 * out again, see bin/ocimon) ocimon started 25 times in 25 at 16 MiB on v1
 * with runc and on v2 with crun, but on v2 with runc 1.1.5 19 in 25 (runc
 * OOM-killed in create) and 25 in 25 at 17; without it each figure is ~1 MiB
 * more. So ocimon refuses a cgroup under 20 MiB up front, with the limit
 * named on stderr and on the sync pipe, and works from 20 MiB. conmon, the
 * control, works at 18 MiB.
 */
import assert from "node:assert/strict";
import { exists, launchMonitor, processesMentioning, run, waitFor } from "../support/harness.ts";
import { IS_CONMON, MONITOR_NAME, OCIMON_BIN, REPO, RUNTIME, tempDir } from "../support/env.ts";
import { join } from "node:path";
import { MonitorCgroup } from "../support/monitor_cgroup.ts";
import { withMonitor } from "../support/faults.ts";

const MiB = 1024 * 1024;

/**
 * The floor holds with Deno's transpile cache warm, as scripts/setup.sh
 * leaves it; a monitor that transpiles ocimon's source itself (edited since
 * the last run) peaks near 19 MiB. So the source is cached once, before the first launch.
 */
let warmed = false;
async function warmTranspileCache() {
  if (IS_CONMON || warmed) return;
  const r = await run(["deno", "cache", "--quiet", "--no-config", join(REPO, "src/main.ts")]);
  assert.equal(r.code, 0, r.stderr);
  warmed = true;
}

async function inCgroup(limitMiB: number) {
  await warmTranspileCache();
  const cg = new MonitorCgroup("faults", limitMiB * MiB);
  const c = await launchMonitor(withMonitor({
    name: "cgroup",
    args: ["sh", "-c", "echo hello; exit 4"],
    bin: cg.wrap(OCIMON_BIN),
  }));
  const m = await c.sync.next();
  return { cg, c, m };
}

async function works(limitMiB: number) {
  const { cg, c, m } = await inCgroup(limitMiB);
  try {
    assert.equal(c.launcher.code, 0, c.launcherStderr);
    assert(m && Number(m.data) > 0, `no pid for the caller: ${JSON.stringify(m)}`);
    await c.start();
    assert.equal(await c.exitCode(), "4");
    assert.match(c.log(), /stdout F hello/);
    console.log(`${MONITOR_NAME}: peak ${(cg.peak() / MiB).toFixed(1)} MiB of ${limitMiB}`);
    assert.equal(cg.oomKills(), 0);
  } finally {
    await run([RUNTIME, "delete", "--force", c.cid]);
    await c.cleanup();
    await cg.remove();
  }
}

Deno.test(`faults (${MONITOR_NAME}): a monitor in an 18 MiB cgroup ${IS_CONMON ? "works" : "fails clearly"}`, async () => {
  if (IS_CONMON) return await works(18);
  const { cg, c, m } = await inCgroup(18);
  try {
    const lines = c.launcherStderr.trimEnd().split("\n");
    console.log(
      `${MONITOR_NAME}: exit ${c.launcher.code}; ${lines[0]}; caller got ${JSON.stringify(m)}`,
    );
    assert.equal(c.launcher.code, 1);
    assert.equal(lines.length, 1, c.launcherStderr);
    assert.match(lines[0], /memory cgroup .* limited to 18 MiB; ocimon needs at least 20 MiB/);
    assert.equal(m?.data, -1);
    assert.match(String(m?.message), /limited to 18 MiB/);
    assert.equal(cg.oomKills(), 0);
    assert.equal((await run([RUNTIME, "state", c.cid])).code !== 0, true, "a container exists");
    assert.deepEqual(processesMentioning(c.cid), []);
    assert.equal(exists(c.logPath), false, `the log it created is left: ${c.logPath}`);
  } finally {
    await c.cleanup();
    await cg.remove();
  }
});

Deno.test(`faults (${MONITOR_NAME}): a monitor in a 20 MiB cgroup creates, runs and reports, 3 times in 3`, async () => {
  for (let i = 0; i < 3; i++) await works(20);
});

/** A runtime whose `create` grows without end (the OOM killer's pick in the cgroup). */
function hogRuntime(dir: string): string {
  const path = join(dir, "runtime-hog");
  Deno.writeTextFileSync(
    path,
    `#!/bin/sh
for a; do
  if [ "$a" = create ]; then exec awk 'BEGIN { s = "x"; while (1) s = s s }'; fi
done
exec ${RUNTIME} "$@"
`,
    { mode: 0o755 },
  );
  return path;
}

/**
 * Whether processes started here may lower their oom_score_adj (CAP_SYS_RESOURCE), as a
 * monitor does to -1000 so that the OOM killer takes the runtime, not it. Without it (the
 * development machine's sandbox, a rootless user) the monitor is the biggest process in its
 * cgroup and the kernel's first pick: the caller reads end-of-file, as from conmon.
 */
function mayProtectFromOomKiller(): boolean {
  const eff = /^CapEff:\s+([0-9a-f]+)/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
  return eff !== undefined && (BigInt(`0x${eff}`) & (1n << 24n)) !== 0n;
}

Deno.test({
  name:
    `faults (${MONITOR_NAME}): the runtime OOM-killed in the monitor's own cgroup during create: the caller is told, with the limit` +
    (IS_CONMON
      ? " (known conmon 2.1.6 failure: the caller reads end-of-file)"
      : mayProtectFromOomKiller()
      ? ""
      : " (needs CAP_SYS_RESOURCE, which this machine withholds: runs in the vm lane)"),
  ignore: !IS_CONMON && !mayProtectFromOomKiller(),
}, async () => {
  await warmTranspileCache();
  const dir = tempDir("mcghog");
  const cg = new MonitorCgroup("faults-hog", 20 * MiB);
  const c = await launchMonitor(withMonitor({
    name: "cghog",
    args: ["true"],
    bin: cg.wrap(OCIMON_BIN),
    drop: ["--runtime"],
    extra: ["--runtime", hogRuntime(dir)],
  }));
  try {
    const m = await c.sync.next();
    console.log(`${MONITOR_NAME}: kills ${cg.oomKills()}; caller got ${JSON.stringify(m)}`);
    assert(cg.oomKills() > 0, "nothing was OOM-killed: the fault was not injected");
    if (IS_CONMON) {
      assert.equal(m, null, "conmon's known failure no longer happens: update this test");
      return;
    }
    assert.equal(m?.data, -1, JSON.stringify(m));
    const message = String(m?.message);
    assert.match(message, /failed with signal SIGKILL/);
    // The kernel's report (root reads /dev/kmsg) names the victim, the cgroup and its limit, once.
    assert.match(message, /OOM-killed awk \(pid \d+\) .*reached its memory limit of 20\.0 MiB/);
    assert.doesNotMatch(message, /at least 20 MiB/);
    assert.equal(message.match(/memory limit|MiB limit/g)?.length, 1, message);
    // Nothing is left: the monitor goes once it has told the caller.
    await waitFor(
      () => (processesMentioning(c.cid).length === 0 ? true : undefined),
      10_000,
      "no process of the container's left",
    );
  } finally {
    await c.cleanup();
    await cg.remove();
    Deno.removeSync(dir, { recursive: true });
  }
});

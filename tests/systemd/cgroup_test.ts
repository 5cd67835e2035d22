/**
 * The monitor with -s/--systemd-cgroup and a systemd cgroupsPath
 * (SLICE:PREFIX:NAME), as CRI-O and podman pass them on a systemd host: the
 * runtime asks systemd for a scope PREFIX-NAME.scope in SLICE, and the
 * monitor watches that scope, OOM verdict included. OCIMON_BIN=/usr/bin/conmon
 * runs it on conmon, the control; what only ocimon writes (the status file)
 * is checked for ocimon alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { OOM_ARGS } from "../support/bundle.ts";
import { IS_CONMON, MONITOR_NAME, OCIMON_BIN, tempDir } from "../support/env.ts";
import { exists, launchMonitor, run, sleep } from "../support/harness.ts";

const RUNS = Number(Deno.env.get("OCIMON_OOM_RUNS") ?? 3);
const SLICE = "ocimontest.slice";
// 32 MiB: under 16 MiB, runc 1.1.15's copy of itself (Debian 13) can be
// OOM-killed before start (see PODMAN_OOM_MEMORY in tests/support/bundle.ts).
const LIMIT = 32 * 1024 * 1024;

let seq = 0;
/** A systemd cgroupsPath and the cgroup (below /sys/fs/cgroup) it names. */
function systemdPath(): { path: string; scope: string; cgroup: string } {
  const name = `${Deno.pid}x${++seq}`;
  const scope = `ocimon-${name}.scope`;
  return { path: `${SLICE}:ocimon:${name}`, scope, cgroup: `/${SLICE}/${scope}` };
}

async function unitState(unit: string): Promise<string> {
  return (await run(["systemctl", "is-active", unit])).stdout.trim();
}

Deno.test(`-s (${MONITOR_NAME}): the container runs in PREFIX-NAME.scope under SLICE; exit code and log as usual`, async () => {
  const p = systemdPath();
  const c = await launchMonitor({
    name: "sdscope",
    bin: OCIMON_BIN,
    args: ["sh", "-c", "cat /proc/self/cgroup; sleep 1; exit 3"],
    cgroupsPath: p.path,
    extra: ["-s"],
    drop: IS_CONMON ? ["--status-file"] : [],
  });
  try {
    assert.equal(c.launcher.code, 0, c.launcherStderr);
    await c.sync.next(60_000); // a loaded TCG VM can take more than the default 10 s
    assert.equal(await unitState(p.scope), "active");
    await c.start();
    assert.equal(await c.exitCode(), "3");
    assert.match(
      c.log(),
      new RegExp(`stdout F 0::${p.cgroup.replaceAll(".", "\\.")}(/container)?\\n`),
    );
    if (!IS_CONMON) {
      const st = c.status();
      assert.equal(st.exitCode, 3);
      assert.equal(st.oomKilled, false);
    }
  } finally {
    await c.cleanup();
  }
  // The runtime's delete stops the scope.
  const deadline = Date.now() + 10_000;
  while ((await unitState(p.scope)) === "active") {
    assert(Date.now() < deadline, `${p.scope} still active after delete`);
    await sleep(100);
  }
});

Deno.test(`-s (${MONITOR_NAME}): OOM under ${LIMIT >> 20} MiB in a systemd scope: ${RUNS} of ${RUNS} runs exit 137 with the OOM reported`, async () => {
  const base = tempDir("sdoom-base");
  const failures: string[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const p = systemdPath();
      const c = await launchMonitor({
        name: "sdoom",
        base,
        bin: OCIMON_BIN,
        args: OOM_ARGS,
        memoryLimit: LIMIT,
        cgroupsPath: p.path,
        extra: ["-s"],
        drop: IS_CONMON ? ["--status-file"] : [],
      });
      try {
        assert.equal(c.launcher.code, 0, c.launcherStderr);
        const pid = (await c.sync.next(60_000))?.data; // a loaded TCG VM can take over 10 s
        // The container's own cgroup: the scope, or (crun) SCOPE/container.
        const own = Deno.readTextFileSync(`/proc/${pid}/cgroup`).trim().replace(/^0::/, "");
        const max = own === p.cgroup || own === `${p.cgroup}/container`
          ? Deno.readTextFileSync(join("/sys/fs/cgroup", own, "memory.max")).trim()
          : `not in the scope (${own})`;
        await c.start();
        const code = await c.exitCode();
        const oomFiles = [
          !exists(join(c.bundle, "oom")) && "no oom file in the bundle",
          !exists(join(c.persistDir, "oom")) && "no oom file in the persist dir",
        ];
        const problems = [
          max !== String(LIMIT) && `scope memory.max ${max}`,
          code !== "137" && `exit file ${code}`,
        ];
        if (IS_CONMON) {
          // Recorded, not asserted: conmon 2.1.6 wrote its oom files in 2 of 2
          // runs here once and in 0 of 3 in a CI run (its v2 watch has no
          // final read, and systemd removes the scope at exit).
          const missed = oomFiles.filter(Boolean);
          console.log(
            `conmon, run ${i + 1}: ${missed.length ? missed.join(", ") : "oom files written"}`,
          );
        } else {
          problems.push(...oomFiles);
          const st = c.status();
          problems.push(
            st.oomKilled !== true && "oomKilled false",
            !(st.oomKillCount >= 1) && `oomKillCount ${st.oomKillCount}`,
          );
        }
        const found = problems.filter(Boolean);
        if (found.length) failures.push(`run ${i + 1}: ${found.join(", ")}`);
      } finally {
        await c.cleanup();
      }
    }
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
  assert.deepEqual(failures, [], `${failures.length} of ${RUNS} runs wrong`);
});

import assert from "node:assert/strict";
import { parseCgroupMounts, parseProcCgroup, resolveMemoryCgroup } from "../../src/cgroup/paths.ts";
import { REPO } from "../support/env.ts";

const sample = (name: string) => ({
  cgroup: Deno.readTextFileSync(`${REPO}/testdata/cgroup/${name}/cgroup`),
  mountinfo: Deno.readTextFileSync(`${REPO}/testdata/cgroup/${name}/mountinfo`),
});

Deno.test("hybrid host: memory resolves on the v1 hierarchy, not the unified one", () => {
  const s = sample("hybrid");
  assert.deepEqual(resolveMemoryCgroup(s.cgroup, s.mountinfo), {
    version: 1,
    path: "/ocimon-test/ctr",
    dir: "/sys/fs/cgroup/memory/ocimon-test/ctr",
    mountPoint: "/sys/fs/cgroup/memory",
  });
});

Deno.test("pure v1: memory found among joined controllers", () => {
  const s = sample("v1");
  const cg = resolveMemoryCgroup(s.cgroup, s.mountinfo);
  assert.equal(cg?.version, 1);
  assert.equal(cg?.dir, "/sys/fs/cgroup/memory/libpod_parent/libpod-0123abcd");
});

Deno.test("pure v2: the 0:: line on the cgroup2 mount", () => {
  const s = sample("v2");
  const cg = resolveMemoryCgroup(s.cgroup, s.mountinfo);
  assert.equal(cg?.version, 2);
  assert.equal(cg?.dir, "/sys/fs/cgroup/machine.slice/libpod-0123abcd.scope/container");
  assert.equal(cg?.mountPoint, "/sys/fs/cgroup");
});

Deno.test("v2 mount whose root is not /: path made relative to the mount root", () => {
  const s = sample("v2-nested-mount");
  const cg = resolveMemoryCgroup(s.cgroup, s.mountinfo);
  assert.equal(cg?.dir, "/sys/fs/cgroup/ctr");
});

Deno.test("mountinfo octal escapes are decoded", () => {
  const mounts = parseCgroupMounts(sample("v2-nested-mount").mountinfo);
  assert(mounts.some((m) => m.mountPoint === "/mnt/cg root"));
});

Deno.test("no matching mount: undefined, not a guess at /sys/fs/cgroup", () => {
  assert.equal(resolveMemoryCgroup("0::/a\n", "1 0 0:1 / / rw - ext4 /dev/x rw\n"), undefined);
  assert.equal(
    resolveMemoryCgroup("4:memory:/a\n", "1 0 0:1 / / rw - ext4 /dev/x rw\n"),
    undefined,
  );
});

Deno.test("malformed /proc/PID/cgroup lines are skipped", () => {
  assert.deepEqual(parseProcCgroup("garbage\n4:memory\n::relative\n4:memory:/ok\n"), [
    { id: "4", controllers: ["memory"], path: "/ok" },
  ]);
});

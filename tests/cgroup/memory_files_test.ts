import assert from "node:assert/strict";
import { oomKillCount, parseFlatKeyed, readMemoryUsage } from "../../src/cgroup/memory_files.ts";

Deno.test("memory.events: oom_kill counter", () => {
  const text = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
  assert.equal(oomKillCount(text), 1);
  assert.equal(parseFlatKeyed(text).get("oom"), 2);
});

Deno.test("v1 memory.oom_control: oom_kill counter", () => {
  assert.equal(oomKillCount("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 3);
});

Deno.test("malformed lines are ignored; a missing counter is undefined", () => {
  assert.equal(oomKillCount("oom_kill\noom_kill x\noom_kill -1\n oom_kill 2 3\n"), undefined);
  assert.equal(oomKillCount("oom_kill_disable 0\nunder_oom 1\n"), undefined); // kernels before 4.13
  assert.equal(oomKillCount(""), undefined);
  assert.equal(oomKillCount("junk line here\noom_kill 4\n"), 4);
});

Deno.test("memory usage: v2 'max' is no limit; v1's huge value is no limit", () => {
  const d = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${d}/memory.peak`, "1048576\n");
  Deno.writeTextFileSync(`${d}/memory.max`, "max\n");
  assert.deepEqual(readMemoryUsage(d, 2), { peak: 1048576, limit: null });
  Deno.writeTextFileSync(`${d}/memory.max_usage_in_bytes`, "4096\n");
  Deno.writeTextFileSync(`${d}/memory.limit_in_bytes`, "9223372036854771712\n");
  assert.deepEqual(readMemoryUsage(d, 1), { peak: 4096, limit: null });
  Deno.writeTextFileSync(`${d}/memory.limit_in_bytes`, "16777216\n");
  assert.deepEqual(readMemoryUsage(d, 1), { peak: 4096, limit: 16777216 });
  Deno.removeSync(d, { recursive: true });
  assert.deepEqual(readMemoryUsage(d, 2), { peak: null, limit: null });
});

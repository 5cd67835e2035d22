import assert from "node:assert/strict";
import {
  oomKillCount,
  parseFlatKeyed,
  parsePressure,
  readMemoryUsage,
} from "../../src/cgroup/memory_files.ts";

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

const pick = ({ peak, limit }: { peak: number | null; limit: number | null }) => ({ peak, limit });

Deno.test("memory usage: v2 'max' is no limit; v1's huge value is no limit", () => {
  const d = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${d}/memory.peak`, "1048576\n");
  Deno.writeTextFileSync(`${d}/memory.max`, "max\n");
  assert.deepEqual(pick(readMemoryUsage(d, 2)), { peak: 1048576, limit: null });
  Deno.writeTextFileSync(`${d}/memory.max_usage_in_bytes`, "4096\n");
  Deno.writeTextFileSync(`${d}/memory.limit_in_bytes`, "9223372036854771712\n");
  assert.deepEqual(pick(readMemoryUsage(d, 1)), { peak: 4096, limit: null });
  Deno.writeTextFileSync(`${d}/memory.limit_in_bytes`, "16777216\n");
  assert.deepEqual(pick(readMemoryUsage(d, 1)), { peak: 4096, limit: 16777216 });
  Deno.removeSync(d, { recursive: true });
  assert.deepEqual(pick(readMemoryUsage(d, 2)), { peak: null, limit: null });
});

Deno.test("memory.pressure: some and full, as PSI prints them; none where the file has neither", () => {
  const text = "some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n" +
    "full avg10=0.75 avg60=0.10 avg300=0.00 total=65432\n";
  assert.deepEqual(parsePressure(text), {
    some: { avg10: 1.5, avg60: 0.25, total: 123456 },
    full: { avg10: 0.75, avg60: 0.1, total: 65432 },
  });
  assert.deepEqual(parsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"), {
    some: { avg10: 0, avg60: 0, total: 0 },
    full: null,
  });
  assert.equal(parsePressure(""), null);
});

Deno.test("usage, limits and pressure of a v2 cgroup; v1 has no high and no pressure", () => {
  const d = Deno.makeTempDirSync();
  const w = (f: string, v: string) => Deno.writeTextFileSync(`${d}/${f}`, v + "\n");
  w("memory.peak", "4096");
  w("memory.max", "max");
  w("memory.high", "8192");
  w("memory.swap.peak", "0");
  w("memory.swap.max", "max");
  w("memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7");
  assert.deepEqual(readMemoryUsage(d, 2), {
    peak: 4096,
    limit: null,
    high: 8192,
    swapPeak: 0,
    swapLimit: null,
    pressure: { some: { avg10: 0, avg60: 0, total: 7 }, full: null },
  });
  w("memory.max_usage_in_bytes", "100");
  w("memory.limit_in_bytes", "9223372036854771712");
  w("memory.memsw.max_usage_in_bytes", "200");
  w("memory.memsw.limit_in_bytes", "1048576");
  assert.deepEqual(readMemoryUsage(d, 1), {
    peak: 100,
    limit: null,
    high: null,
    swapPeak: 200,
    swapLimit: 1048576,
    pressure: null,
  });
  Deno.removeSync(d, { recursive: true });
});

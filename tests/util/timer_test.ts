import assert from "node:assert/strict";
import { after, every, sleep } from "../../src/util/timer.ts";

const SRC = new URL("../../src/", import.meta.url).pathname;
const TIMER = new URL("../../src/util/timer.ts", import.meta.url).href;

Deno.test("after: runs once, no sooner than asked", async () => {
  const t0 = performance.now();
  let runs = 0;
  await new Promise<void>((resolve) => after(30, () => (runs++, resolve())));
  assert.ok(performance.now() - t0 >= 25);
  await sleep(40);
  assert.equal(runs, 1);
});

Deno.test("after: cancelled, it never runs; a bad delay is 0", async () => {
  let ran = false;
  after(10, () => (ran = true)).cancel();
  let zero = false;
  after(NaN, () => (zero = true));
  after(-5, () => {});
  await sleep(50);
  assert.equal(ran, false);
  assert.equal(zero, true);
});

Deno.test("every: repeats until cancelled", async () => {
  let n = 0;
  const t = every(10, () => n++);
  await sleep(75);
  t.cancel();
  const seen = n;
  assert.ok(seen >= 3, `ran ${seen} times`);
  await sleep(40);
  assert.equal(n, seen);
});

/** Runs `body` (with the timer module imported) in a fresh Deno; its wall time in ms. */
async function runScript(body: string): Promise<{ ms: number; out: string }> {
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", `import { after, every } from "${TIMER}";\n${body}`],
    stdout: "piped",
  }).output();
  assert.ok(r.success);
  return { ms: performance.now() - t0, out: new TextDecoder().decode(r.stdout) };
}

Deno.test("timers: a pending one keeps the process alive; a cancelled one does not", async () => {
  const pending = await runScript(`after(700, () => console.log("fired"));`);
  assert.equal(pending.out, "fired\n");
  assert.ok(pending.ms >= 650, `${pending.ms} ms`);
  const cancelled = await runScript(
    `after(20000, () => console.log("fired")).cancel(); every(20000, () => {}).cancel();`,
  );
  assert.equal(cancelled.out, "");
  assert.ok(cancelled.ms < 15000, `${cancelled.ms} ms`);
});

Deno.test("src/ takes its timers from util/timer.ts, not setTimeout (node:timers)", () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const path = `${dir}${e.name}`;
      if (e.isDirectory) walk(`${path}/`);
      else if (path.endsWith(".ts") && !path.endsWith("util/timer.ts")) {
        const code = Deno.readTextFileSync(path).replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, "");
        if (/\b(setTimeout|setInterval)\s*\(/.test(code)) offenders.push(path.slice(SRC.length));
      }
    }
  };
  walk(SRC);
  assert.deepEqual(offenders, []);
});

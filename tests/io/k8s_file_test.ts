import assert from "node:assert/strict";
import { K8sFileLog, K8sLineFormatter } from "../../src/io/k8s_file.ts";
import { rfc3339Nano } from "../../src/sys/time.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const TS = "2026-11-23T05:31:07.000000001+00:00";
/** A copy: the formatter's result lives only until its next call. */
const formatK8sLines = (stream: "stdout" | "stderr", chunk: Uint8Array, ts: string) =>
  new K8sLineFormatter().format(stream, chunk, ts).slice();

Deno.test("full lines are F, one record each", () => {
  assert.equal(
    dec(formatK8sLines("stdout", enc("a\nbb\n"), TS)),
    `${TS} stdout F a\n${TS} stdout F bb\n`,
  );
});

Deno.test("a trailing piece without newline is P and gets a newline in the log", () => {
  assert.equal(
    dec(formatK8sLines("stderr", enc("x\npart"), TS)),
    `${TS} stderr F x\n${TS} stderr P part\n`,
  );
  assert.equal(dec(formatK8sLines("stdout", enc("only"), TS)), `${TS} stdout P only\n`);
});

Deno.test("empty lines are kept; empty chunks write nothing", () => {
  assert.equal(
    dec(formatK8sLines("stdout", enc("\n\n"), TS)),
    `${TS} stdout F \n${TS} stdout F \n`,
  );
  assert.equal(formatK8sLines("stdout", enc(""), TS).length, 0);
});

Deno.test("one formatter reused across chunks of every size gives each its own lines", () => {
  const f = new K8sLineFormatter();
  const big = "x".repeat(9000);
  const cases: [string, string][] = [
    [`${big}\n${big}`, `${TS} stdout F ${big}\n${TS} stdout P ${big}\n`],
    ["a\n", `${TS} stdout F a\n`],
    ["\n".repeat(3), `${TS} stdout F \n`.repeat(3)],
    ["tail", `${TS} stdout P tail\n`],
    ["", ""],
  ];
  for (const [input, want] of cases) assert.equal(dec(f.format("stdout", enc(input), TS)), want);
});

Deno.test("bytes that are not UTF-8 pass through untouched", () => {
  const raw = new Uint8Array([0xff, 0xfe, 0x0a]);
  const out = formatK8sLines("stdout", raw, TS);
  assert.deepEqual([...out.subarray(out.length - 3)], [0xff, 0xfe, 0x0a]);
});

Deno.test("timestamps: RFC 3339 with nine fraction digits and a numeric zone", () => {
  assert.match(rfc3339Nano(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d$/);
  assert.match(rfc3339Nano({ sec: 0, nsec: 5 }), /\.000000005[+-]\d\d:\d\d$/);
});

Deno.test("log size max: the file starts over and never exceeds the limit", () => {
  const dir = Deno.makeTempDirSync();
  const log = new K8sFileLog(`${dir}/ctr.log`, 300);
  for (let i = 0; i < 50; i++) log.write("stdout", enc(`line ${i}\n`));
  log.close();
  const text = Deno.readTextFileSync(`${dir}/ctr.log`);
  assert(text.length <= 300);
  assert.match(text, /stdout F line 49\n$/);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ctr.log"], "no temp file left");
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("reopen follows a rotated log path", () => {
  const dir = Deno.makeTempDirSync();
  const log = new K8sFileLog(`${dir}/ctr.log`);
  log.write("stdout", enc("before\n"));
  Deno.renameSync(`${dir}/ctr.log`, `${dir}/ctr.log.1`);
  log.reopen();
  log.write("stdout", enc("after\n"));
  log.close();
  assert.match(Deno.readTextFileSync(`${dir}/ctr.log`), /F after\n$/);
  assert.match(Deno.readTextFileSync(`${dir}/ctr.log.1`), /F before\n$/);
  Deno.removeSync(dir, { recursive: true });
});

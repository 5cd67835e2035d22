import assert from "node:assert/strict";
import { K8sFileLog, K8sLineFormatter, openK8sLogFile } from "../../src/io/k8s_file.ts";
import type { Stream } from "../../src/io/stream.ts";
import { closeQuietly } from "../../src/sys/fd.ts";
import { exists } from "../../src/util/fs.ts";
import { CreateWatch } from "../support/inotify.ts";
import { rfc3339Nano } from "../../src/sys/time.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const TS = "2026-11-23T05:31:07.000000001+00:00";
/** A copy: the formatter's result lives only until its next call. */
const formatK8sLines = (stream: Stream, chunk: Uint8Array, ts: string) =>
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
  const log = new K8sFileLog(`${dir}/ctr.log`, { sizeMax: 300 });
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

Deno.test("a log's directory is never created; the file is made mode 0640, as conmon main", () => {
  const dir = Deno.makeTempDirSync();
  assert.throws(() => new K8sFileLog(`${dir}/missing/ctr.log`), /No such file or directory/);
  assert.throws(() => openK8sLogFile(`${dir}/missing/ctr.log`), /No such file or directory/);
  assert.equal(exists(`${dir}/missing`), false);
  const fd = openK8sLogFile(`${dir}/ctr.log`);
  closeQuietly(fd);
  assert.equal(Deno.statSync(`${dir}/ctr.log`).mode! & 0o777, 0o640 & ~umask());
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("reopen renames a new file over the path: a directory watcher sees a Create at once", () => {
  const dir = Deno.makeTempDirSync();
  const log = new K8sFileLog(`${dir}/ctr.log`);
  log.write("stdout", enc("before\n"));
  const watch = new CreateWatch(dir);
  try {
    // The path was not moved away first: only a rename over it makes an event.
    log.reopen();
    assert(watch.created().includes("ctr.log"), "Create (IN_MOVED_TO) on ctr.log");
    log.write("stdout", enc("after\n"));
    log.close();
    assert.deepEqual(lines(`${dir}/ctr.log`), ["stdout F after"]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ctr.log"]);
  } finally {
    watch.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--log-rotate: at the size limit the log moves to .1, .1 to .2, keeping N files", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/ctr.log`;
  const log = new K8sFileLog(path, { sizeMax: 200, rotate: true, maxFiles: 2 });
  for (let i = 0; i < 40; i++) log.write("stdout", enc(`line ${String(i).padStart(2, "0")}\n`));
  log.close();
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(names, ["ctr.log", "ctr.log.1", "ctr.log.2"]);
  const [cur, one, two] = ["", ".1", ".2"].map((s) => lines(path + s).map((l) => l.slice(-2)));
  assert.equal(cur.at(-1), "39", "the newest output is in the log itself");
  // Each backup holds the output just before the next newer file's.
  assert.equal(Number(one.at(-1)) + 1, Number(cur[0]));
  assert.equal(Number(two.at(-1)) + 1, Number(one[0]));
  for (const s of ["", ".1", ".2"]) assert(Deno.statSync(path + s).size <= 200);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("--log-rotate with --log-max-files 1 keeps exactly one old log", () => {
  const dir = Deno.makeTempDirSync();
  const log = new K8sFileLog(`${dir}/ctr.log`, { sizeMax: 100, rotate: true, maxFiles: 1 });
  for (let i = 0; i < 30; i++) log.write("stdout", enc(`line ${i}\n`));
  log.close();
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "ctr.log",
    "ctr.log.1",
  ]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("reopen with --log-rotate rotates: the old log becomes .1, a new one takes the path", () => {
  const dir = Deno.makeTempDirSync();
  const log = new K8sFileLog(`${dir}/ctr.log`, { rotate: true, maxFiles: 2 });
  log.write("stdout", enc("before\n"));
  log.reopen();
  log.write("stdout", enc("after\n"));
  log.close();
  assert.deepEqual(lines(`${dir}/ctr.log.1`), ["stdout F before"]);
  assert.deepEqual(lines(`${dir}/ctr.log`), ["stdout F after"]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("--log-global-size-max: once that many bytes are written, nothing more is logged", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/ctr.log`;
  // The cap counts across start-overs at --log-size-max, as conmon's total does.
  const log = new K8sFileLog(path, { sizeMax: 400, globalSizeMax: 1000 });
  const record = "2026-11-23T05:31:07.000000001+00:00 stdout F line 00\n".length;
  for (let i = 0; i < 100; i++) log.write("stdout", enc(`line ${String(i).padStart(2, "0")}\n`));
  log.close();
  const last = Number(lines(path).at(-1)!.slice(-2));
  const written = (last + 1) * record;
  assert(written >= 1000 && written < 1000 + record, `${written} bytes written in all`);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a log that cannot be written (/dev/full) drops and counts, never throws", () => {
  const dir = Deno.makeTempDirSync();
  const full = fullDevice(dir);
  const log = new K8sFileLog(full);
  const said: string[] = [];
  const consoleError = console.error;
  console.error = (m: string) => said.push(m);
  try {
    for (let i = 0; i < 5; i++) log.write("stdout", enc("x".repeat(5000) + "\n"));
  } finally {
    console.error = consoleError;
  }
  assert.equal(log.droppedWrites, 5);
  assert(log.droppedBytes > 25000);
  assert.equal(said.length, 1, "said once");
  assert.match(said[0], /^ocimon: log .*full: cannot write \(No space left on device\)/);
  log.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("reopen where no new file can be made: said, not thrown; the old file goes on", () => {
  const dir = Deno.makeTempDirSync();
  const log = new K8sFileLog(`${dir}/ctr.log`);
  const keep = Deno.openSync(`${dir}/ctr.log`);
  Deno.removeSync(dir, { recursive: true });
  log.reopen();
  log.write("stdout", enc("still here\n"));
  assert.equal(log.droppedWrites, 0);
  log.close();
  keep.close();
});

/** A /dev/full of our own (the host's /dev may lack one): every write fails, ENOSPC. */
function fullDevice(dir: string): string {
  const path = `${dir}/full`;
  const r = new Deno.Command("mknod", { args: [path, "c", "1", "7"] }).outputSync();
  if (!r.success) throw new Error(`mknod: ${new TextDecoder().decode(r.stderr)}`);
  return path;
}

function lines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter(Boolean).map((l) => l.replace(/^\S+ /, ""));
}

function umask(): number {
  const old = Deno.umask(0);
  Deno.umask(old);
  return old;
}

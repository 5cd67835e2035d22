/**
 * The /dev/kmsg reader against the real kernel log (records written to
 * /dev/kmsg as root), and the record parser on captured records.
 */
import assert from "node:assert/strict";
import { KmsgReader, parseKmsgRecord } from "../../src/oom/kmsg.ts";
import { REPO } from "../support/env.ts";
import { rawRecords, recordStarting } from "./fixtures.ts";

Deno.test("parseKmsgRecord: PRIO split into facility and level, escapes undone", () => {
  const raw = rawRecords("v2-6.1-memcg.txt").find((r) => r.includes(";anon "))!;
  assert.match(raw, /\\x0a/);
  const rec = parseKmsgRecord(raw)!;
  assert.equal(rec.facility, 0);
  assert.equal(rec.level, 6);
  assert.equal(rec.seq, 438);
  assert.equal(rec.usec, 9163846);
  assert.equal(rec.cont, false);
  assert.equal(rec.caller, undefined);
  assert.ok(rec.message.startsWith("anon 16629760\nfile 16384\nkernel 102400\n"));
  assert.ok(!rec.message.includes("\\x"));
  const warn = recordStarting("v2-6.1-memcg.txt", "tail invoked oom-killer");
  assert.deepEqual([warn.facility, warn.level], [0, 4]);
  const err = recordStarting("v2-6.1-memcg.txt", "Memory cgroup out of memory");
  assert.deepEqual([err.facility, err.level], [0, 3]);
});

Deno.test("parseKmsgRecord: dictionary lines (SUBSYSTEM=, DEVICE=) are not part of the message", () => {
  const raws = rawRecords("v2-6.1-dict.txt");
  const raw = raws.find((r) => r.includes("\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n"))!;
  const rec = parseKmsgRecord(raw)!;
  assert.equal(
    rec.message,
    "acpi PNP0A03:00: _OSC: OS supports [ASPM ClockPM Segments MSI HPX-Type3]",
  );
  assert.deepEqual([rec.facility, rec.level, rec.seq], [0, 6, 209]);
});

Deno.test("parseKmsgRecord: continuation flag, caller field, malformed prefixes", () => {
  const raw = rawRecords("v2-6.1-nested.txt").find((r) => r.includes(";oom-kill:"))!;
  const withCaller = raw.replace(",-;", ",c,caller=T170;");
  const rec = parseKmsgRecord(withCaller)!;
  assert.equal(rec.cont, true);
  assert.equal(rec.caller, "T170");
  assert.equal(rec.message, parseKmsgRecord(raw)!.message);
  assert.equal(parseKmsgRecord(raw.replace(",-;", ",+;"))!.cont, true);
  for (const bad of ["", "garbage", "6,1;x", "a,1,2,-;x", "6,1,2,--;x", "6,-1,2,-;x", "6,1,2,-"]) {
    assert.equal(parseKmsgRecord(bad), undefined, bad);
  }
  // A message may hold ';' and ','.
  assert.equal(parseKmsgRecord("6,1,2,-;a;b,c\n")!.message, "a;b,c");
});

const encoder = new TextEncoder();

/** Writes records to the kernel log, as a process with write access to /dev/kmsg does. */
function logToKmsg(...lines: string[]): void {
  const f = Deno.openSync("/dev/kmsg", { write: true });
  try {
    for (const line of lines) f.writeSync(encoder.encode(line + "\n"));
  } finally {
    f.close();
  }
}

Deno.test("KmsgReader: only records logged after the open, read back without blocking", () => {
  const tag = crypto.randomUUID();
  logToKmsg(`<14>ocimon-test ${tag} before`);
  const reader = KmsgReader.open();
  assert.equal(typeof reader, "object", String(reader));
  const r = reader as KmsgReader;
  try {
    const first = r.read();
    assert.deepEqual(first.records.filter((x) => x.message.includes(tag)), []);
    logToKmsg(`<14>ocimon-test ${tag} one`, `<14>ocimon-test ${tag} two`);
    const { records, lost } = r.read();
    assert.equal(lost, 0);
    const ours = records.filter((x) => x.message.includes(tag));
    assert.deepEqual(ours.map((x) => x.message), [
      `ocimon-test ${tag} one`,
      `ocimon-test ${tag} two`,
    ]);
    for (const x of ours) assert.deepEqual([x.facility, x.level, x.cont], [1, 6, false]);
    assert.ok(ours[1].seq > ours[0].seq);
    assert.ok(ours[1].usec >= ours[0].usec);

    // Nothing left: the read returns at once instead of waiting for the next record.
    const t0 = performance.now();
    const empty = r.read();
    assert.ok(performance.now() - t0 < 200);
    assert.deepEqual(empty.records.filter((x) => x.message.includes(tag)), []);
  } finally {
    r.close();
  }
  assert.deepEqual(r.read(), { records: [], lost: 0 });
});

Deno.test("KmsgReader: read(max) stops after max records and the rest waits for the next read", () => {
  const tag = crypto.randomUUID();
  const r = KmsgReader.open() as KmsgReader;
  try {
    logToKmsg(`<14>ocimon-test ${tag} 1`, `<14>ocimon-test ${tag} 2`, `<14>ocimon-test ${tag} 3`);
    const a = r.read(2).records;
    assert.equal(a.length, 2);
    const b = r.read().records;
    const ours = [...a, ...b].filter((x) => x.message.includes(tag)).map((x) =>
      x.message.slice(-1)
    );
    assert.deepEqual(ours, ["1", "2", "3"]);
  } finally {
    r.close();
  }
});

Deno.test("KmsgReader: the kernel's escapes of control bytes, backslashes and UTF-8 are undone", () => {
  const tag = crypto.randomUUID();
  const r = KmsgReader.open() as KmsgReader;
  try {
    const text = `ocimon-test ${tag} tab\there back\\slash caf\u00e9 \u{1f600}`;
    logToKmsg(`<14>${text}`);
    const ours = r.read().records.filter((x) => x.message.includes(tag));
    assert.deepEqual(ours.map((x) => x.message), [text]);
  } finally {
    r.close();
  }
});

Deno.test("KmsgReader.open: a path that does not exist gives a reason, not an exception", () => {
  assert.equal(KmsgReader.open("/nonexistent/kmsg"), "no /nonexistent/kmsg on this system");
});

const DMESG_RESTRICT = "/proc/sys/kernel/dmesg_restrict";

/** Runs `KmsgReader.open()` in a deno run as nobody; returns what it printed. */
async function openAsNobody(): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "ocimon-kmsg-" });
  try {
    Deno.chmodSync(dir, 0o777);
    const script = `${dir}/open.ts`;
    Deno.writeTextFileSync(
      script,
      `import { KmsgReader } from ${JSON.stringify(`${REPO}/src/oom/kmsg.ts`)};\n` +
        `const r = KmsgReader.open();\n` +
        `console.log(typeof r === "string" ? r : "opened");\n`,
    );
    const out = await new Deno.Command("setpriv", {
      args: [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        Deno.execPath(),
        "run",
        "--no-config",
        "--allow-all",
        script,
      ],
      env: { DENO_DIR: `${dir}/deno`, HOME: dir, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    return new TextDecoder().decode(out.stdout).trim();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("KmsgReader.open: unprivileged under dmesg_restrict=1 says why; allowed under 0", async () => {
  const saved = Deno.readTextFileSync(DMESG_RESTRICT).trim();
  try {
    Deno.writeTextFileSync(DMESG_RESTRICT, "1\n");
    assert.equal(
      await openAsNobody(),
      "cannot read /dev/kmsg: Operation not permitted (it needs CAP_SYSLOG, or kernel.dmesg_restrict=0)",
    );
    // Root keeps CAP_SYSLOG.
    const root = KmsgReader.open();
    assert.equal(typeof root, "object", String(root));
    (root as KmsgReader).close();

    Deno.writeTextFileSync(DMESG_RESTRICT, "0\n");
    assert.equal(await openAsNobody(), "opened");
  } finally {
    Deno.writeTextFileSync(DMESG_RESTRICT, saved + "\n");
  }
  assert.equal(Deno.readTextFileSync(DMESG_RESTRICT).trim(), saved);
});

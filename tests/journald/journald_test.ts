/**
 * The journald log driver against a real systemd-journald: read back with
 * journalctl. Needs a running journal: run through scripts/with_journald.sh
 * on a host without systemd (the journald lane does), or as is in the
 * systemd VM. OCIMON_BIN=/usr/bin/conmon runs the same checks on conmon
 * (the control), less what only ocimon has.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { concat, exists, launchMonitor, run, sleep, waitFor } from "../support/harness.ts";
import { makeBundle } from "../support/bundle.ts";
import { IS_CONMON, OCIMON_BIN, RUNTIME, tempDir } from "../support/env.ts";

/** conmon knows neither --status-file nor CONTAINER_PARTIAL_MESSAGE's opt-out (2.1.6). */
const DROP = IS_CONMON ? ["--status-file", "--log-path"] : ["--log-path"];

type Entry = Record<string, string>;

/** A test's name, with the reason it is skipped in this run, if it is. */
function named(name: string, skipped: string | false | undefined): string {
  return skipped ? `${name} [skipped: ${skipped}]` : name;
}

/** With scripts/with_journald.sh: the file holding the pid of its journald. */
const OWN_JOURNALD = Deno.env.get("OCIMON_TEST_JOURNALD_PIDFILE");

const dec = new TextDecoder();
/** journalctl -o json gives a field that is not valid text as an array of bytes. */
function field(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return dec.decode(new Uint8Array(v as number[]));
  return String(v);
}
function bytes(v: unknown): Uint8Array {
  if (Array.isArray(v)) return new Uint8Array(v as number[]);
  return new TextEncoder().encode(String(v));
}

/** The journal entries of a container, oldest first, raw MESSAGE bytes kept. */
async function journal(cid: string): Promise<{ entries: Entry[]; raw: Uint8Array[] }> {
  await run(["journalctl", "--sync"]);
  const r = await run([
    "journalctl",
    "--no-pager",
    "--all",
    "-o",
    "json",
    `CONTAINER_ID_FULL=${cid}`,
  ]);
  const entries: Entry[] = [];
  const raw: Uint8Array[] = [];
  for (const line of r.stdout.split("\n").filter(Boolean)) {
    const j = JSON.parse(line);
    entries.push(Object.fromEntries(Object.entries(j).map(([k, v]) => [k, field(v)])));
    raw.push(bytes(j.MESSAGE));
  }
  return { entries, raw };
}

/** Waits until the journal holds `n` entries of the container. */
async function journalOf(cid: string, n: number, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const j = await journal(cid);
    if (j.entries.length >= n || Date.now() > deadline) return j;
    await sleep(100);
  }
}

async function runContainer(name: string, script: string, extra: string[] = []) {
  const c = await launchMonitor({
    name,
    args: ["sh", "-c", script],
    drop: DROP,
    extra: ["--log-path", "journald:", ...extra],
  });
  assert.equal(c.launcher.code, 0, c.launcherStderr);
  await c.sync.next();
  await c.start();
  return c;
}

Deno.test("journald: one entry per line with conmon's fields, beside a k8s-file log", async () => {
  const log = join(tempDir("jlog"), "ctr.log");
  const c = await runContainer("journald-fields", "echo hello; echo oops >&2; exit 3", [
    "--log-path",
    `k8s-file:${log}`,
    "--log-tag",
    "tagged",
    // conmon 2.1.6 has no --log-label (conmon main has).
    ...(IS_CONMON ? [] : ["--log-label", "TEAM=ops", "--log-label", "TIER=2"]),
  ]);
  try {
    assert.equal(await c.exitCode(), "3");
    const { entries } = await journalOf(c.cid, 2);
    assert.equal(entries.length, 2, JSON.stringify(entries));
    const out = entries.find((e) => e.MESSAGE.startsWith("hello"))!;
    const err = entries.find((e) => e.MESSAGE.startsWith("oops"))!;
    for (const [e, prio] of [[out, "6"], [err, "3"]] as const) {
      assert.equal(e.CONTAINER_ID_FULL, c.cid);
      assert.equal(e.CONTAINER_ID, c.cid.slice(0, 12));
      assert.equal(e.CONTAINER_NAME, c.cid); // the harness names it after its id
      assert.equal(e.CONTAINER_TAG, "tagged");
      assert.equal(e.SYSLOG_IDENTIFIER, "tagged");
      assert.equal(e.PRIORITY, prio);
      if (!IS_CONMON) assert.equal(e.TEAM, "ops");
      if (!IS_CONMON) assert.equal(e.TIER, "2");
      assert.equal(e.CONTAINER_PARTIAL_MESSAGE, undefined);
    }
    assert.equal(out.MESSAGE.replace(/\n$/, ""), "hello");
    assert.equal(err.MESSAGE.replace(/\n$/, ""), "oops");
    // The k8s-file log got the same lines.
    assert.match(Deno.readTextFileSync(log), /stdout F hello\n/);
    assert.match(Deno.readTextFileSync(log), /stderr F oops\n/);
  } finally {
    await c.cleanup();
    Deno.removeSync(join(log, ".."), { recursive: true });
  }
});

Deno.test("journald: long lines come in partial pieces, binary bytes unchanged", async () => {
  // 20000 'a' and a newline, then bytes that are not text.
  const script =
    "head -c 20000 /dev/zero | tr '\\0' a; echo; printf '\\001\\002\\377\\033[0mbin\\n'";
  const c = await runContainer("journald-long", script);
  try {
    assert.equal(await c.exitCode(), "0");
    const { entries, raw } = await journalOf(c.cid, 4);
    const flags = entries.map((e) => e.CONTAINER_PARTIAL_MESSAGE ?? "");
    assert(entries.length >= 4, `${entries.length} entries`);
    assert.deepEqual(flags.slice(-2), ["", ""], "the long line's last piece and the binary line");
    assert(flags.slice(0, -2).every((f) => f === "true"), `partial flags: ${flags}`);
    assert(raw.slice(0, -2).every((m) => m.length <= 8192 * 2), "pieces at most two reads");
    // What the container wrote, byte for byte, once the pieces are joined.
    const want = new Uint8Array([
      ...new TextEncoder().encode("a".repeat(20000) + "\n"),
      1,
      2,
      0xff,
      0x1b,
      ...new TextEncoder().encode("[0mbin\n"),
    ]);
    const got = concat(raw);
    // journald keeps MESSAGE's trailing newline or drops it; compare line by line.
    const strip = (b: Uint8Array) => b[b.length - 1] === 10 ? b.subarray(0, -1) : b;
    assert.deepEqual(
      strip(concat(raw.slice(0, -1))),
      strip(want.subarray(0, 20001)),
      `long line: ${got.length} bytes`,
    );
    assert.deepEqual(strip(raw.at(-1)!), strip(want.subarray(20001)));
  } finally {
    await c.cleanup();
  }
});

Deno.test({
  name: named(
    "journald: --no-container-partial-message leaves the flag off",
    IS_CONMON && "conmon 2.1.6 has no --no-container-partial-message",
  ),
  ignore: IS_CONMON,
  fn: async () => {
    const script = "head -c 12000 /dev/zero | tr '\\0' b; echo";
    const c = await runContainer("journald-nopartial", script, ["--no-container-partial-message"]);
    try {
      assert.equal(await c.exitCode(), "0");
      const { entries } = await journalOf(c.cid, 2);
      assert.equal(entries.length, 2);
      assert(entries.every((e) => e.CONTAINER_PARTIAL_MESSAGE === undefined));
      assert.equal(entries.map((e) => e.MESSAGE).join("").trimEnd(), "b".repeat(12000));
    } finally {
      await c.cleanup();
    }
  },
});

Deno.test("journald: a flood of lines arrives whole and in order (none lost to a signal)", async () => {
  // The container's exit (SIGCHLD) lands while sends wait for journald:
  // an interrupted send must be sent again, not dropped.
  const n = 100_000;
  const c = await runContainer("journald-flood", `seq 1 ${n}`);
  try {
    assert.equal(await c.exitCode(60_000), "0");
    await run(["journalctl", "--sync"]);
    const r = await run([
      "sh",
      "-c",
      `journalctl --no-pager -o json --output-fields=MESSAGE CONTAINER_ID_FULL=${c.cid}`,
    ]);
    const got = r.stdout.split("\n").filter(Boolean).map((l) => Number(JSON.parse(l).MESSAGE));
    assert.equal(got.length, n, `${got.length} entries`);
    const at = got.findIndex((v, i) => v !== i + 1);
    assert.equal(at, -1, `out of order at entry ${at}: ${got[at - 1]}, then ${got[at]}`);
  } finally {
    await c.cleanup();
  }
});

/** Starts our own journald again (after a test killed it) for the tests after. */
async function restartJournald(): Promise<void> {
  const child = new Deno.Command("/lib/systemd/systemd-journald", {
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  Deno.writeTextFileSync(OWN_JOURNALD!, String(child.pid));
  // Ready once it answers on its varlink socket.
  for (let i = 0; i < 100; i++) {
    if ((await run(["journalctl", "--sync"])).code === 0) return;
    await sleep(50);
  }
}

/** The pid of the journald the tests write to. */
async function journaldPid(): Promise<number> {
  if (OWN_JOURNALD) return Number(Deno.readTextFileSync(OWN_JOURNALD));
  const r = await run(["systemctl", "show", "-p", "MainPID", "--value", "systemd-journald"]);
  const pid = Number(r.stdout.trim());
  if (!(pid > 0)) throw new Error(`no journald pid: ${r.stdout} ${r.stderr}`);
  return pid;
}

Deno.test({
  name: named(
    "journald: a frozen journal stalls neither the container nor its exit code",
    // Asserted for conmon in the systemd VM (tests/systemd/journald_test.ts).
    IS_CONMON && "conmon blocks on a frozen journal; the systemd lane asserts that",
  ),
  ignore: IS_CONMON,
  fn: async () => {
    const pid = await journaldPid();
    const debugLog = join(tempDir("jfrozen"), "debug.log");
    Deno.env.set("OCIMON_DEBUG_LOG", debugLog);
    Deno.kill(pid, "SIGSTOP");
    let c;
    try {
      // 200000 lines: far more than the journal's socket queue holds.
      c = await runContainer("journald-frozen", "seq 1 200000; exit 7");
      const t0 = Date.now();
      // The journal counts as not reading after 10 s without progress.
      assert.equal(await c.exitCode(40_000), "7");
      assert(Date.now() - t0 < 40_000);
    } finally {
      Deno.kill(pid, "SIGCONT");
      Deno.env.delete("OCIMON_DEBUG_LOG");
    }
    try {
      // The monitor said so when it began to drop, and gives the count when
      // it closes its logs: after the exit file (which no log may hold back)
      // and its wait for the last children (up to 1 s), so wait for it.
      await waitFor(
        () => /\d+ log entries dropped in all/.test(Deno.readTextFileSync(debugLog)) || undefined,
        10_000,
        "the count of dropped entries",
      );
      assert.match(Deno.readTextFileSync(debugLog), /dropping log entries/);
      const { entries } = await journalOf(c.cid, 1);
      assert(entries.length > 0, "entries sent before the queue filled reach the journal");
      assert.equal(entries[0].MESSAGE.trim(), "1", "in order, from the first line");
    } finally {
      await c.cleanup();
      Deno.removeSync(join(debugLog, ".."), { recursive: true });
    }
  },
});

Deno.test({
  name: named(
    "journald: libsystemd missing -> one line, exit 1, nothing created",
    IS_CONMON && "conmon is linked against libsystemd: without it, it does not start at all",
  ),
  ignore: IS_CONMON,
  fn: async () => {
    const dir = tempDir("jnolib");
    const cid = `jnolib-${Deno.pid}-container`;
    const bundle = makeBundle(dir, cid, { args: ["true"], cgroupsPath: `/ocimon-test/${cid}` });
    const exits = join(dir, "exits");
    Deno.mkdirSync(exits);
    const lib = (await run(["sh", "-c", "ldconfig -p | awk '/libsystemd.so.0 /{print $NF; exit}'"]))
      .stdout.trim();
    assert(lib, "libsystemd.so.0 is on this host");
    try {
      // A mount namespace of its own where the library is an empty file.
      const r = await run([
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        `mount --bind /dev/null ${lib} && exec "$@"`,
        "sh",
        OCIMON_BIN,
        "--cid",
        cid,
        "--cuuid",
        cid,
        "--runtime",
        RUNTIME,
        "--bundle",
        bundle,
        "--exit-dir",
        exits,
        "--log-path",
        "journald:",
      ]);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^ocimon: the journald log driver needs libsystemd\.so\.0/);
      assert(!exists(join(exits, cid)), "no exit file");
      const state = await run([RUNTIME, "state", cid]);
      assert.notEqual(state.code, 0, "no container");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: named(
    "journald: a journal gone mid-run (socket left, nobody reading) is dropped, said once",
    // Only with a journald of our own: under systemd, the socket is systemd's.
    (IS_CONMON && "conmon blocks on a journal that does not read") ||
      (!OWN_JOURNALD && "needs a journald of the test's own (scripts/with_journald.sh)"),
  ),
  ignore: IS_CONMON || !OWN_JOURNALD,
  fn: async () => {
    const pid = await journaldPid();
    const debugLog = join(tempDir("jgone"), "debug.log");
    Deno.env.set("OCIMON_DEBUG_LOG", debugLog);
    let c;
    try {
      c = await runContainer("journald-gone", "echo before; sleep 1; seq 1 50000; exit 4");
      await sleep(300);
      Deno.kill(pid, "SIGKILL");
      assert.equal(await c.exitCode(20_000), "4");
      const said = Deno.readTextFileSync(debugLog);
      assert.equal(said.match(/dropping log entries/g)?.length, 1, said);
      assert.match(said, /Connection refused/);
    } finally {
      Deno.env.delete("OCIMON_DEBUG_LOG");
      await c?.cleanup();
      Deno.removeSync(join(debugLog, ".."), { recursive: true });
      await restartJournald();
    }
  },
});

import assert from "node:assert/strict";
import { closeQuietly, pipe, readSome } from "../../src/sys/fd.ts";
import { sigset, spawn, spawnAttr } from "../../src/sys/spawn.ts";
import { tryWait } from "../../src/sys/process.ts";
import { Poller, POLLIN } from "../../src/sys/poller.ts";

async function waitExit(pid: number) {
  for (;;) {
    const r = tryWait(pid);
    if (r) return r;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function readAllSync(fd: number): string {
  const buf = new Uint8Array(4096);
  let s = "";
  for (let n; (n = readSome(fd, buf)) > 0;) s += new TextDecoder().decode(buf.subarray(0, n));
  return s;
}

Deno.test("spawn: argv, env, cwd and fd mapping reach the child; other fds do not", async () => {
  const [r, w] = pipe();
  const [leakR, leakW] = pipe(); // close-on-exec: must not reach the child
  const pid = spawn({
    path: "/bin/sh",
    argv: [
      "sh",
      "-c",
      'echo "$0 $FOO $(pwd)"; for fd in 0 1 2 3 $1 $2; do [ -e /proc/self/fd/$fd ] && printf "$fd "; done >&3; true',
      "arg0",
      String(leakR),
      String(leakW),
    ],
    env: ["FOO=bar"],
    cwd: "/tmp",
    fds: { 0: "null", 1: w, 2: w, 3: w },
  });
  closeQuietly(w);
  const r1 = await waitExit(pid);
  assert.deepEqual(r1, { pid, code: 0, signal: 0 });
  const out = readAllSync(r).split("\n");
  assert.equal(out[0], "arg0 bar /tmp");
  assert.equal(out[1].trim(), "0 1 2 3", "fds 0-3 only: close-on-exec pipes stay behind");
  closeQuietly(r);
  closeQuietly(leakR);
  closeQuietly(leakW);
});

Deno.test("spawn: a source fd that is also a target is not clobbered", async () => {
  const [r, w] = pipe();
  const pid = spawn({
    path: "/bin/sh",
    argv: ["sh", "-c", "echo one >&3; echo two >&4"],
    env: [],
    fds: { 3: w, 4: w },
  });
  closeQuietly(w);
  await waitExit(pid);
  assert.equal(readAllSync(r), "one\ntwo\n");
  closeQuietly(r);
});

/** A signal mask line (SigIgn, SigBlk, …) of /proc/self/status, as a spawned shell sees it. */
async function childSignalMask(field: string): Promise<bigint> {
  const [r, w] = pipe();
  const pid = spawn({
    path: "/bin/sh",
    argv: ["sh", "-c", `grep ${field} /proc/self/status`],
    env: [],
    fds: { 1: w },
  });
  closeQuietly(w);
  await waitExit(pid);
  const line = readAllSync(r);
  closeQuietly(r);
  return BigInt("0x" + line.split(/\s+/)[1]);
}

Deno.test("spawn: the child gets default signal dispositions (no inherited SIGPIPE ignore)", async () => {
  // dash ignores nothing itself; bit 13 (SIGPIPE) must be clear.
  assert.equal((await childSignalMask("SigIgn")) & (1n << 12n), 0n);
});

Deno.test("sigset: the same bits libc's sigaddset sets, for every signal", () => {
  const lib = Deno.dlopen("libc.so.6", {
    sigemptyset: { parameters: ["buffer"], result: "i32" },
    sigaddset: { parameters: ["buffer", "i32"], result: "i32" },
  });
  try {
    for (let sig = 1; sig <= 64; sig++) {
      const theirs = new Uint8Array(128);
      lib.symbols.sigemptyset(theirs);
      // glibc keeps 32 and 33 for itself: sigaddset refuses them.
      if (lib.symbols.sigaddset(theirs, sig) !== 0) continue;
      assert.deepEqual(sigset([sig]), theirs, `signal ${sig}`);
    }
  } finally {
    lib.close();
  }
});

Deno.test("spawnAttr: the same bytes as libc's posix_spawnattr_* make", () => {
  const lib = Deno.dlopen("libc.so.6", {
    posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
    posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
    posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
    posix_spawnattr_setpgroup: { parameters: ["buffer", "i32"], result: "i32" },
    posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
    posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  });
  const cases: [number, number, number[], number[]][] = [
    [0x04 | 0x08, 0, [1, 2, 13, 15, 64], []],
    [0x02 | 0x04 | 0x08 | 0x80, 0, [17], [10, 12]],
    [0x02, 4321, [], [1, 64]],
  ];
  try {
    for (const [flags, pgroup, def, mask] of cases) {
      const theirs = new Uint8Array(336);
      const s = lib.symbols;
      assert.equal(s.posix_spawnattr_init(theirs), 0);
      assert.equal(s.posix_spawnattr_setsigdefault(theirs, sigset(def)), 0);
      assert.equal(s.posix_spawnattr_setsigmask(theirs, sigset(mask)), 0);
      assert.equal(s.posix_spawnattr_setpgroup(theirs, pgroup), 0);
      assert.equal(s.posix_spawnattr_setflags(theirs, flags), 0);
      assert.deepEqual(spawnAttr(flags, pgroup, sigset(def), sigset(mask)), theirs);
      s.posix_spawnattr_destroy(theirs);
    }
  } finally {
    lib.close();
  }
});

Deno.test("spawn: the child starts with no signal blocked", async () => {
  assert.equal(await childSignalMask("SigBlk"), 0n);
});

Deno.test("spawn: a missing program is an error, not a child", () => {
  assert.throws(
    () => spawn({ path: "/nonexistent/prog", argv: ["x"], env: [] }),
    /posix_spawn .*No such file/,
  );
});

Deno.test("exit statuses: code, and 128+N with the signal for a killed child", async () => {
  const a = spawn({ path: "/bin/sh", argv: ["sh", "-c", "exit 7"], env: [] });
  assert.deepEqual(await waitExit(a), { pid: a, code: 7, signal: 0 });
  const b = spawn({ path: "/bin/sh", argv: ["sh", "-c", "kill -TERM $$"], env: [] });
  assert.deepEqual(await waitExit(b), { pid: b, code: 143, signal: 15 });
});

Deno.test("poller: readiness callbacks, removal, and stopping", async () => {
  const [r, w] = pipe();
  const poller = new Poller();
  const got: number[] = [];
  const done = new Promise<void>((resolve) => {
    poller.add(r, (ev) => {
      got.push(ev & POLLIN);
      readAllSyncNonBlocking(r);
      resolve();
      return false;
    });
  });
  Deno.openSync(`/proc/self/fd/${w}`, { write: true }).writeSync(new Uint8Array([1]));
  await done;
  assert.deepEqual(got, [POLLIN]);
  assert.equal(poller.has(r), false);
  poller.close();
  closeQuietly(r);
  closeQuietly(w);
});

function readAllSyncNonBlocking(fd: number) {
  readSome(fd, new Uint8Array(16));
}

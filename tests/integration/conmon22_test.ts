/**
 * conmon 2.2's behaviours that a drop-in needs (issue 19, item 4), each on
 * real containers: what conmon main does (2.1.13, 2.2.0, 2.2.1), ocimon does;
 * where conmon 2.1.6 (the host's control, when OCIMON_BIN is conmon) differs,
 * its known behaviour is asserted instead, and the test's name says so.
 * The list, with the tests of the rest, is in docs/conmon-compat.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { IS_CONMON, MONITOR_NAME, RUNTIME, tempDir } from "../support/env.ts";
import {
  launchMonitor,
  type MonitoredContainer,
  type MonitorOptions,
  readIfExists,
  run,
  sleep,
  waitFor,
} from "../support/harness.ts";
import { withMonitor } from "../support/faults.ts";
import { CreateWatch } from "../support/inotify.ts";
import { closeQuietly, setNonBlocking, writeSome } from "../../src/sys/fd.ts";
import { SHUT_WR, SOCK_SEQPACKET } from "../../src/sys/libc.ts";
import { connectUnix, recvSome, shutdownSocket } from "../../src/sys/socket.ts";
import { records } from "../support/k8s_log.ts";

/** A runtime that runs the real one through `body` (a shell snippet; "$@" is the call). */
function wrapperRuntime(dir: string, body: string): string {
  const path = join(dir, "runtime-wrapper");
  Deno.writeTextFileSync(path, `#!/bin/sh\nREAL=${RUNTIME}\n${body}\n`, { mode: 0o755 });
  return path;
}

/** An exec in `c` through the monitor, as podman runs one: its own monitor, api 1. */
async function launchExec(
  c: MonitoredContainer,
  args: string[],
  opts: MonitorOptions = {},
): Promise<MonitoredContainer> {
  const spec = join(c.dir, `process-${Date.now()}.json`);
  Deno.writeTextFileSync(
    spec,
    JSON.stringify({ args, cwd: "/", env: ["PATH=/bin"], user: { uid: 0, gid: 0 } }),
  );
  return await launchMonitor(withMonitor({
    ...opts,
    name: "exec",
    bundle: c.bundle,
    drop: ["--cid", "--cuuid", ...(opts.drop ?? [])],
    extra: [
      "--cid",
      c.cid,
      "--cuuid",
      `${c.cid}-exec`,
      "--exec",
      "--exec-process-spec",
      spec,
      ...(opts.extra ?? []),
    ],
  }));
}

/** An exec's exit file: named for the container's id, in the exec's own exit dir. */
function execExitFile(e: MonitoredContainer, c: MonitoredContainer): Promise<string> {
  return waitFor(() => readIfExists(join(e.exitDir, c.cid)), 30_000, "the exec's exit file");
}

Deno.test(
  `[${MONITOR_NAME}] -t and the runtime sends no terminal: ` +
    (IS_CONMON ? "conmon 2.1.6 leaves the caller at EOF" : "JSON on the sync pipe, as conmon 2.2"),
  async () => {
    const dir = tempDir("noterm");
    // The container is made without a terminal, the console socket dropped from
    // the runtime's argv: the runtime succeeds and never sends a pty.
    const wrapper = wrapperRuntime(
      dir,
      `skip=
for a do
  shift
  if [ -n "$skip" ]; then skip=; continue; fi
  case "$a" in --console-socket) skip=1; continue ;; --console-socket=*) continue ;; esac
  set -- "$@" "$a"
done
exec "$REAL" "$@"`,
    );
    const c = await launchMonitor(withMonitor({
      name: "noterm",
      args: ["sleep", "30"],
      drop: ["--runtime"],
      extra: ["--runtime", wrapper, "--terminal"],
    }));
    try {
      assert.equal(c.launcher.code, 0, c.launcherStderr);
      const msg = await c.sync.next();
      if (IS_CONMON) {
        assert.equal(msg, null, `conmon 2.1.6 now says ${JSON.stringify(msg)}: update this test`);
        return;
      }
      assert.equal(msg?.data, -1, JSON.stringify(msg));
      assert.match(String(msg?.message), /^Runtime did not set up terminal/);
      // What the runtime made is not left behind.
      assert.notEqual((await run([RUNTIME, "state", c.cid])).code, 0, "the container is deleted");
    } finally {
      await c.cleanup();
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

Deno.test(`[${MONITOR_NAME}] an exec's exit code is its process's (healthchecks)`, async () => {
  const c = await launchMonitor(withMonitor({ name: "execmain", args: ["sleep", "600"] }));
  try {
    await c.sync.next();
    await c.start();
    for (
      const [cmd, code] of [["exit 0", 0], ["exit 1", 1], ["exit 42", 42], ["kill -9 $$", 137]]
    ) {
      const e = await launchExec(c, ["sh", "-c", cmd as string]);
      try {
        const pid = await e.sync.next();
        assert(pid && Number(pid.data) > 0, `${cmd}: ${JSON.stringify(pid)}`);
        const exit = await e.sync.next();
        assert.equal(exit?.data, code, `${cmd}: ${JSON.stringify(exit)}`);
        assert.equal(await execExitFile(e, c), String(code), cmd as string);
      } finally {
        e.sync.close();
        Deno.removeSync(e.dir, { recursive: true });
      }
    }
  } finally {
    await c.cleanup();
  }
});

Deno.test(
  `[${MONITOR_NAME}] an exec whose runtime ends non-zero after starting it: ` +
    (IS_CONMON
      ? "conmon 2.1.6 calls it a failed create"
      : "not a failed create, the process's exit code, as conmon 2.2"),
  async () => {
    const c = await launchMonitor(withMonitor({ name: "execrt", args: ["sleep", "600"] }));
    const dir = tempDir("execrt");
    // The runtime starts the exec, then ends with 1 (and says nothing).
    const wrapper = wrapperRuntime(
      dir,
      `"$REAL" "$@" || exit $?\n[ "$1" = exec ] && exit 1\nexit 0`,
    );
    try {
      await c.sync.next();
      await c.start();
      const e = await launchExec(c, ["sh", "-c", "sleep 0.5; exit 7"], {
        drop: ["--runtime"],
        extra: ["--runtime", wrapper],
      });
      try {
        const first = await e.sync.next();
        if (IS_CONMON) {
          // 2.1.6 reports a failed create only with words on the runtime's stderr.
          assert.equal(first, null, `conmon 2.1.6 now says ${JSON.stringify(first)}`);
          return;
        }
        assert(first && Number(first.data) > 0, JSON.stringify(first));
        const exit = await e.sync.next();
        assert.equal(exit?.data, 7, JSON.stringify(exit));
        assert.equal(await execExitFile(e, c), "7");
      } finally {
        e.sync.close();
        Deno.removeSync(e.dir, { recursive: true });
      }
    } finally {
      await c.cleanup();
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

Deno.test(`[${MONITOR_NAME}] an exec the runtime cannot start: a failed create, the runtime's words`, async () => {
  const c = await launchMonitor(withMonitor({ name: "execbad", args: ["sleep", "600"] }));
  try {
    await c.sync.next();
    await c.start();
    const e = await launchExec(c, ["no-such-command"]);
    try {
      const msg = await e.sync.next();
      assert(msg && Number(msg.data) < 0, JSON.stringify(msg));
      assert.match(String(msg.message), /no-such-command/);
    } finally {
      e.sync.close();
      Deno.removeSync(e.dir, { recursive: true });
    }
  } finally {
    await c.cleanup();
  }
});

Deno.test(`[${MONITOR_NAME}] an unfinished last line is one P record, no closing F (conmon 2.2.1)`, async () => {
  const c = await launchMonitor(
    withMonitor({ name: "lastline", args: ["sh", "-c", "printf abc"] }),
  );
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(), "0");
    const log = c.log();
    assert.deepEqual(records(log), [["stdout", "P", "abc"]]);
    assert.match(log, /^\S+ stdout P abc\n$/);
  } finally {
    await c.cleanup();
  }
});

/**
 * The numbers 1..N, as `seq` prints them, from a log's records: P pieces
 * joined to the F that ends them; the first piece of a file may be the tail
 * of a line whose start went with an older file, and is left out.
 */
function seqLines(log: string): number[] {
  const out: number[] = [];
  let piece = "";
  let first = true;
  for (const [stream, tag, text] of records(log)) {
    assert.equal(stream, "stdout");
    piece += text;
    if (tag === "P") continue;
    if (!(first && !/^[1-9]\d*$/.test(piece))) {
      assert.match(piece, /^[1-9]\d*$/, `a whole line: ${JSON.stringify(piece)}`);
      out.push(Number(piece));
    }
    first = false;
    piece = "";
  }
  assert.equal(piece, "", "the log ends with a whole record");
  return out;
}

const LINES = 20000;

Deno.test(`[${MONITOR_NAME}] --log-size-max under a burst of short lines: whole records, each line once, in order`, async () => {
  const c = await launchMonitor(withMonitor({
    name: "sizeburst",
    args: ["seq", "1", String(LINES)],
    extra: ["--log-size-max", "16384"],
  }));
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(), "0");
    const lines = seqLines(c.log());
    assert(lines.length > 100, `${lines.length} lines in the last file`);
    assert.equal(lines.at(-1), LINES, "the newest line is kept");
    lines.forEach((n, i) => i > 0 && assert.equal(n, lines[i - 1] + 1, `after ${lines[i - 1]}`));
  } finally {
    await c.cleanup();
  }
});

/**
 * The numbers of the lines logged whole in one record (an F after an F), in
 * order: where output was dropped, a P piece and the F after it need not be
 * the same line, so pieces are not joined here.
 */
function wholeLines(log: string): number[] {
  const out: number[] = [];
  let after = "F";
  for (const [, tag, text] of records(log)) {
    if (tag === "F" && after === "F") {
      assert.match(text, /^[1-9]\d*$/, `a whole line: ${JSON.stringify(text)}`);
      out.push(Number(text));
    }
    after = tag;
  }
  return out;
}

/** A tmpfs of `size` at DIR/mnt, with a file filling all but `room` bytes of it. */
async function smallTmpfs(size: string, room: number): Promise<{ mnt: string; filler: string }> {
  const mnt = join(tempDir("tmpfs"), "mnt");
  Deno.mkdirSync(mnt);
  const r = await run(["mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mnt]);
  if (r.code !== 0) throw new Error(`mount: ${r.stderr}`);
  const filler = join(mnt, "filler");
  const f = Deno.openSync(filler, { write: true, create: true });
  const block = new Uint8Array(4096);
  try {
    for (;;) f.writeSync(block);
  } catch { /* full */ }
  f.close();
  Deno.truncateSync(filler, Math.max(0, Deno.statSync(filler).size - room));
  return { mnt, filler };
}

/**
 * Waits until the container's init has a child whose command line is `cmd`
 * (from /proc: `runtime ps` lists command lines with runc, pids alone with crun).
 */
async function waitForProcess(c: MonitoredContainer, cmd: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  const init = Number(Deno.readTextFileSync(c.containerPidfile).trim());
  for (;;) {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const ppid = /^PPid:\s+(\d+)$/m.exec(Deno.readTextFileSync(`/proc/${e.name}/status`));
        if (Number(ppid?.[1]) !== init) continue;
        const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0").filter(Boolean);
        if (argv.join(" ") === cmd) return;
      } catch { /* gone meanwhile */ }
    }
    if (Date.now() > deadline) throw new Error(`no '${cmd}' under ${c.cid}'s init (pid ${init})`);
    await sleep(50);
  }
}

for (const rotate of IS_CONMON ? [false] : [false, true]) {
  const how = rotate ? "--log-rotate" : "--log-size-max";
  Deno.test(`[${MONITOR_NAME}] ${how}, partial writes on a full tmpfs, then the room back: whole records, no line twice`, async () => {
    // The log fills the disk in the middle of a write (short write, then
    // ENOSPC); room comes back; the burst goes on across start-overs or
    // rotations. conmon 2.2 fixed a corruption of the records after a
    // partial write at this point (29d17be, bc69519).
    const { mnt, filler } = await smallTmpfs("512k", 100_000);
    const log = join(mnt, "ctr.log");
    // The tmpfs goes whatever happens, a failed launch included.
    let c: MonitoredContainer | undefined;
    try {
      c = await launchMonitor(withMonitor({
        name: "fullrot",
        args: ["sh", "-c", "seq 1 20000; sleep 3; seq 20001 25000"],
        drop: ["--log-path"],
        extra: [
          "--log-path",
          `k8s-file:${log}`,
          "--log-size-max",
          "200000",
          ...(rotate ? ["--log-rotate", "--log-max-files", "1"] : []),
        ],
      }));
      assert.equal(c.launcher.code, 0, c.launcherStderr);
      await c.sync.next();
      await c.start();
      await waitForProcess(c, "sleep 3"); // the first burst is through, the disk full
      Deno.removeSync(filler);
      assert.equal(await c.exitCode(), "0");
      const files = rotate ? [`${log}.1`, log] : [log];
      const lines = wholeLines(files.map((f) => Deno.readTextFileSync(f)).join(""));
      lines.forEach((n, i) => i > 0 && assert(n > lines[i - 1], `${n} after ${lines[i - 1]}`));
      assert.equal(lines.at(-1), 25000, "the last line is logged");
      // The file that took the partial write: started over (gone), or rotated (kept).
      if (rotate) {
        assert(lines.some((n) => n <= 20000), "the lines from before the disk filled");
        assert(lines.some((n) => n > 20000 && n < 22000), "the lines after the room came back");
      }
    } finally {
      await c?.cleanup();
      await run(["umount", "-l", mnt]);
      Deno.removeSync(join(mnt, ".."), { recursive: true });
    }
  });
}

if (!IS_CONMON) {
  // conmon 2.1.6 has no --log-rotate (conmon main added it).
  Deno.test("[ocimon] --log-rotate under a burst of short lines: every line once, whole, across the files", async () => {
    const c = await launchMonitor({
      name: "rotburst",
      args: ["seq", "1", String(LINES)],
      extra: ["--log-size-max", "65536", "--log-rotate", "--log-max-files", "40"],
    });
    try {
      await c.sync.next();
      await c.start();
      assert.equal(await c.exitCode(), "0");
      const files = Array.from({ length: 40 }, (_, i) => `${c.logPath}.${40 - i}`)
        .filter((p) => {
          try {
            return Deno.statSync(p).isFile;
          } catch {
            return false;
          }
        });
      assert(files.length >= 5, `${files.length} rotated files`);
      for (const f of [...files, c.logPath]) {
        assert(Deno.statSync(f).size <= 65536, `${f} is over the limit`);
      }
      // Pieces of a line may straddle a rotation: join the files, then read.
      const all = [...files, c.logPath].map((f) => Deno.readTextFileSync(f)).join("");
      assert.deepEqual(seqLines(all), Array.from({ length: LINES }, (_, i) => i + 1));
    } finally {
      await c.cleanup();
    }
  });
}

/** The sizes a `stty size` loop printed, in order, from the log. */
function sizes(c: MonitoredContainer): string[] {
  return [...c.log().matchAll(/ (\d+ \d+)\r?$/gm)].map((m) => m[1]);
}

async function waitSize(c: MonitoredContainer, size: string): Promise<void> {
  await waitFor(() => (sizes(c).at(-1) === size ? true : undefined), 15_000, `size ${size}`);
}

Deno.test(
  `[${MONITOR_NAME}] ctl lines in one write and split across writes: each handled once` +
    (IS_CONMON ? " (conmon 2.1.6 repeats the first line of a write)" : ""),
  async () => {
    const c = await launchMonitor(withMonitor({
      name: "ctllines",
      args: ["sh", "-c", "while :; do stty size; sleep 0.05; done"],
      terminal: true,
      extra: ["--terminal"],
    }));
    let watch: CreateWatch | undefined;
    const ctl = (s: string) => Deno.writeTextFileSync(join(c.bundle, "ctl"), s);
    try {
      await c.sync.next();
      await c.start();
      ctl("1 11 21\n");
      await waitSize(c, "11 21");
      ctl("1 12 22\n1 13 23\n"); // one write, two lines
      if (IS_CONMON) {
        // 2.1.6 handles the buffer's first line once per line it holds.
        await sleep(500);
        assert.equal(sizes(c).at(-1), "12 22", "conmon 2.1.6 now takes the second line");
        return;
      }
      await waitSize(c, "13 23");
      // A line split across writes is handled once, whole.
      ctl("1 1");
      await sleep(200);
      ctl("4 24\n1 1");
      await waitSize(c, "14 24");
      ctl("5 25\n");
      await waitSize(c, "15 25");
      const seen = new Set(sizes(c));
      for (const torn of ["1 0", "1 4", "1 5"]) {
        assert(!seen.has(torn), `a torn line applied: ${torn}`);
      }
      // Two reopens in one write: two new files renamed over the log, not one, not three.
      watch = new CreateWatch(c.dir);
      ctl("2 0 0\n2 0 0\n");
      let reopens = 0;
      await waitFor(
        () => {
          reopens += watch!.created().filter((n) => n === "ctr.log").length;
          return reopens >= 2 ? true : undefined;
        },
        15_000,
        "two reopens",
      );
      await sleep(500); // a third would come by now
      reopens += watch.created().filter((n) => n === "ctr.log").length;
      assert.equal(reopens, 2);
    } finally {
      watch?.close();
      await c.cleanup();
    }
  },
);

Deno.test(
  `[${MONITOR_NAME}] a stdin flood into a container that reads slowly: all of it arrives, ${
    IS_CONMON ? "(conmon's diagnostics not read)" : "at most one diagnostic"
  }`,
  async () => {
    const diagDir = tempDir("stdindiag");
    const debugLog = join(diagDir, "diag.log");
    Deno.env.set("OCIMON_DEBUG_LOG", debugLog);
    // 4 KiB at a time, a pause after each: the pipe is full most of the time.
    const reader = 'n=0; while :; do k=$(head -c 4096 | wc -c); [ "$k" -gt 0 ] || break; ' +
      'n=$((n+k)); sleep 0.01; done; echo "read $n"';
    let c: MonitoredContainer | undefined;
    let fd: number | undefined;
    try {
      c = await launchMonitor(withMonitor({
        name: "slowstdin",
        args: ["sh", "-c", reader],
        extra: ["--stdin", "--full-attach"],
      }));
      const m = await c.sync.next();
      assert(m && Number(m.data) > 0, JSON.stringify(m));
      await c.start();
      fd = connectUnix(join(c.bundle, "attach"), SOCK_SEQPACKET);
      setNonBlocking(fd);
      const packet = new Uint8Array(4096).fill(0x61);
      const total = 256 * 1024;
      for (let sent = 0; sent < total;) {
        const n = writeSome(fd, packet);
        if (n > 0) sent += n;
        else await sleep(5);
      }
      shutdownSocket(fd, SHUT_WR);
      const drain = new Uint8Array(9000);
      await waitFor(() => (recvSome(fd!, drain) === 0 ? true : undefined), 60_000, "the exit");
      assert.equal(await c.exitCode(), "0");
      assert.match(c.log(), new RegExp(`stdout F read ${total}$`, "m"), "every byte read, once");
      if (!IS_CONMON) {
        const diags = (await Deno.readTextFile(debugLog).catch(() => "")).split("\n").filter(
          Boolean,
        );
        assert(diags.length <= 1, `diagnostics:\n${diags.join("\n")}`);
      }
    } finally {
      Deno.env.delete("OCIMON_DEBUG_LOG");
      closeQuietly(fd);
      await c?.cleanup();
      Deno.removeSync(diagDir, { recursive: true });
    }
  },
);

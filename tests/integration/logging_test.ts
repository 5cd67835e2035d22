/**
 * What the container writes, as it lands in the k8s-file log; and the exit
 * command that runs once the container is gone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  exists,
  launchMonitor,
  type MonitoredContainer,
  type MonitorOptions,
  processesMentioning,
  readIfExists,
  run,
  sleep,
  waitFor,
} from "../support/harness.ts";
import { CONMON, OCIMON_BIN, RUNTIME } from "../support/env.ts";
import { CreateWatch } from "../support/inotify.ts";
import { records } from "../support/k8s_log.ts";

Deno.test("partial lines are tagged P; a line longer than a read is split", async () => {
  const script =
    "printf 'no-newline'; sleep 0.3; printf ' rest\\n'; head -c 10000 /dev/zero | tr '\\0' a; echo";
  const c = await launchMonitor({ name: "partial", args: ["sh", "-c", script] });
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(), "0");
    const recs = records(c.log());
    assert.deepEqual(recs[0], ["stdout", "P", "no-newline"]);
    assert.deepEqual(recs[1], ["stdout", "F", " rest"]);
    // The 10000-byte line arrives in more than one read: P pieces, then F.
    const long = recs.slice(2);
    assert(long.length >= 2, `long line in ${long.length} records`);
    assert(long.slice(0, -1).every((r) => r[1] === "P"));
    assert.equal(long.at(-1)![1], "F");
    assert.equal(long.map((r) => r[2]).join(""), "a".repeat(10000));
  } finally {
    await c.cleanup();
  }
});

Deno.test("--log-size-max starts the log over instead of growing past it", async () => {
  const script = "i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done";
  const c = await launchMonitor({
    name: "sizemax",
    args: ["sh", "-c", script],
    extra: ["--log-size-max", "4096"],
  });
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(), "0");
    const log = c.log();
    assert(log.length <= 4096, `log is ${log.length} bytes`);
    assert.match(log, /stdout F line-399$/m, "the newest output is kept");
    assert.doesNotMatch(log, /stdout F line-0$/m, "the oldest output is gone");
  } finally {
    await c.cleanup();
  }
});

Deno.test("--log-path is repeatable: none adds nothing, each k8s-file gets the output", async () => {
  const other = join(Deno.makeTempDirSync(), "second.log");
  const c = await launchMonitor({
    name: "twologs",
    args: ["echo", "twice"],
    extra: ["--log-path", "none", "--log-path", `k8s-file:${other}`],
  });
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(), "0");
    assert.deepEqual(records(c.log()), [["stdout", "F", "twice"]]);
    assert.deepEqual(records(Deno.readTextFileSync(other)), [["stdout", "F", "twice"]]);
  } finally {
    await c.cleanup();
    Deno.removeSync(other);
  }
});

Deno.test("--exit-command runs with its arguments after the exit file and --exit-delay", async () => {
  const out = Deno.makeTempDirSync();
  const marker = join(out, "marker");
  const c = await launchMonitor({
    name: "exitcmd",
    args: ["true"],
    extra: [
      "--exit-command",
      "/bin/sh",
      "--exit-command-arg",
      "-c",
      "--exit-command-arg",
      `echo "$@" > ${marker}.tmp && mv ${marker}.tmp ${marker}`,
      "--exit-command-arg",
      "sh",
      "--exit-command-arg",
      "container",
      "--exit-command-arg",
      "cleanup",
      "--exit-delay",
      "1",
    ],
  });
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(), "0");
    const t0 = Date.now();
    assert.equal(
      await waitFor(() => readIfExists(marker), 5000, "the exit command's marker"),
      "container cleanup\n",
    );
    assert(Date.now() - t0 >= 800, "the exit command waited for --exit-delay");
  } finally {
    await c.cleanup();
    Deno.removeSync(out, { recursive: true });
  }
});

// --- log setup and log options, as conmon (src/ctr_logging.c). Each check runs
// against ocimon and, where conmon 2.1.6 has the behaviour, against conmon as
// the control. ---

const MONITORS: [string, string][] = [["ocimon", OCIMON_BIN], ["conmon", CONMON]];

/** launchMonitor with `bin`; conmon has no --status-file (ocimon's own). */
function launchWith(bin: string, opts: MonitorOptions): Promise<MonitoredContainer> {
  const drop = [...(opts.drop ?? []), ...(bin === CONMON ? ["--status-file"] : [])];
  return launchMonitor({ ...opts, bin, drop });
}

/** What a refused start must leave: no container, no endpoints, no pidfile, no exit file. */
async function assertNothingCreated(c: MonitoredContainer): Promise<void> {
  const state = await run([RUNTIME, "state", c.cid]);
  assert.notEqual(state.code, 0, `the runtime knows ${c.cid}: ${state.stdout}`);
  const inBundle = [...Deno.readDirSync(c.bundle)].map((e) => e.name);
  for (const name of ["attach", "ctl", "winsz"]) assert(!inBundle.includes(name), `${name} left`);
  assert(!exists(c.conmonPidfile), "conmon pidfile written");
  assert.deepEqual([...Deno.readDirSync(c.exitDir)], []);
  assert.equal(await c.sync.next(), null, "nothing on the sync pipe");
}

const UNOPENABLE: [string, (dir: string) => string][] = [
  ["missing directory", (d) => join(d, "missing", "ctr.log")],
  [
    "parent is a file",
    (d) => (Deno.writeTextFileSync(join(d, "plain"), ""), join(d, "plain", "ctr.log")),
  ],
  ["path is a directory", (d) => (Deno.mkdirSync(join(d, "adir")), join(d, "adir"))],
];

for (const [monitor, bin] of MONITORS) {
  for (const mode of ["daemon", "--sync"]) {
    for (const [what, logPath] of UNOPENABLE) {
      Deno.test(`[${monitor}] a log that cannot be opened (${what}, ${mode}): exit 1, one line, nothing created`, async () => {
        const dir = Deno.makeTempDirSync();
        const path = logPath(dir);
        const c = await launchWith(bin, {
          name: "badlog",
          args: ["true"],
          drop: ["--log-path"],
          extra: ["--log-path", `k8s-file:${path}`, ...(mode === "--sync" ? ["--sync"] : [])],
        });
        try {
          assert.equal(c.launcher.code, 1, c.launcherStderr);
          const lines = c.launcherStderr.trim().split("\n");
          // conmon's words; ocimon adds the path and the reason.
          assert.match(c.launcherStderr, /Failed to open log file/);
          if (monitor === "ocimon") {
            assert.equal(lines.length, 1, c.launcherStderr);
            assert.match(lines[0], /^ocimon: Failed to open log file .+: .+/);
          }
          await assertNothingCreated(c);
          assert(!exists(join(dir, "missing")), "a missing log directory was created");
        } finally {
          await c.cleanup();
          Deno.removeSync(dir, { recursive: true });
        }
      });
    }
  }

  Deno.test(`[${monitor}] --log-path off:, null:, none: and bare off, null log nothing`, async () => {
    const c = await launchWith(bin, {
      name: "nolog",
      args: ["echo", "unlogged"],
      drop: ["--log-path"],
      extra: ["off:", "null:", "none:", "off", "null"].flatMap((l) => ["--log-path", l]),
    });
    try {
      assert.equal(c.launcher.code, 0, c.launcherStderr);
      await c.sync.next();
      await c.start();
      assert.equal(await c.exitCode(), "0");
      // Nothing named after the drivers in the monitor's working directory (the bundle).
      for (const name of ["off", "null", "none", "off:", "null:", "none:"]) {
        assert(!exists(join(c.bundle, name)), `${name} written`);
      }
      assert(!exists(c.logPath));
    } finally {
      await c.cleanup();
    }
  });

  Deno.test(`[${monitor}] --log-path :PATH is a k8s-file log`, async () => {
    const c = await launchWith(bin, {
      name: "colonpath",
      args: ["echo", "to-file"],
      drop: ["--log-path"],
      extra: ["--log-path", ":colon.log"],
    });
    try {
      assert.equal(c.launcher.code, 0, c.launcherStderr);
      await c.sync.next();
      await c.start();
      assert.equal(await c.exitCode(), "0");
      // Relative to the monitor's working directory, the bundle.
      assert.deepEqual(records(Deno.readTextFileSync(join(c.bundle, "colon.log"))), [
        ["stdout", "F", "to-file"],
      ]);
    } finally {
      await c.cleanup();
    }
  });

  // conmon's words, from both monitors.
  const REFUSED: [string, string[], string[], RegExp][] = [
    [
      "bare k8s-file",
      ["--log-path"],
      ["--log-path", "k8s-file"],
      /k8s-file requires a filename/,
    ],
    ["no --log-path", ["--log-path"], [], /Log driver not provided. Use --log-path/],
    [
      "--log-tag with only a k8s-file log",
      [],
      ["--log-tag", "t"],
      /k8s-file doesn't support --log-tag/,
    ],
  ];
  for (const [what, drop, extra, message] of REFUSED) {
    Deno.test(`[${monitor}] ${what}: exit 1, a clear message, nothing created`, async () => {
      const c = await launchWith(bin, { name: "refused", args: ["true"], drop, extra });
      try {
        assert.equal(c.launcher.code, 1, c.launcherStderr);
        assert.match(c.launcherStderr, message);
        await assertNothingCreated(c);
        // conmon opens the log before it checks the options; ocimon checks first.
        if (monitor === "ocimon") assert(!exists(c.logPath), "log created");
      } finally {
        await c.cleanup();
      }
    });
  }

  Deno.test(`[${monitor}] --log-global-size-max stops logging at that many bytes`, async () => {
    // 1 MiB of 100-byte lines against a 64 KiB cap (CRI-O passes 16 MiB for ExecSync).
    const script = `yes ${"a".repeat(99)} | head -c 1048576`;
    const cap = 65536;
    const c = await launchWith(bin, {
      name: "globalmax",
      args: ["sh", "-c", script],
      extra: ["--log-global-size-max", String(cap)],
    });
    try {
      await c.sync.next();
      await c.start();
      assert.equal(await c.exitCode(), "0");
      const size = Deno.statSync(c.logPath).size;
      // conmon checks before each record, so the last one may cross the cap.
      assert(size >= cap && size < cap + 8192 + 64, `log is ${size} bytes`);
    } finally {
      await c.cleanup();
    }
  });

  Deno.test(`[${monitor}] ctl reopen renames a new log over the path: a watcher sees it at once`, async () => {
    const c = await launchWith(bin, {
      name: "reopen",
      args: ["sh", "-c", "echo before; sleep 3; echo after"],
    });
    let watch: CreateWatch | undefined;
    try {
      await c.sync.next();
      await c.start();
      await waitFor(() => (c.log().includes("before") ? true : undefined), 5000, "first line");
      // As CRI-O's ReopenContainerLog: watch the directory, then ask for the reopen.
      // The log is not moved away first, so only a rename over the path makes an event.
      watch = new CreateWatch(c.dir);
      const t0 = Date.now();
      Deno.writeTextFileSync(join(c.bundle, "ctl"), "2 0 0\n");
      await waitFor(
        () => (watch!.created().includes("ctr.log") ? true : undefined),
        2000,
        "a Create event for ctr.log",
      );
      assert(Date.now() - t0 < 2000);
      assert.equal(await c.exitCode(), "0");
      assert.deepEqual(records(c.log()), [["stdout", "F", "after"]]);
    } finally {
      watch?.close();
      await c.cleanup();
    }
  });
}

// conmon 2.1.6 has no --log-rotate, --log-max-files or --log-allowlist-dir
// (conmon main added them), so these run against ocimon only.

Deno.test("[ocimon] --log-rotate --log-max-files 2: rotated at --log-size-max, two old logs kept", async () => {
  const script = "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done";
  const c = await launchMonitor({
    name: "rotate",
    args: ["sh", "-c", script],
    extra: ["--log-size-max", "2048", "--log-rotate", "--log-max-files", "2"],
  });
  try {
    await c.sync.next();
    await c.start();
    assert.equal(await c.exitCode(), "0");
    const logs = [...Deno.readDirSync(c.dir)].map((e) => e.name).filter((n) =>
      n.startsWith("ctr.log")
    ).sort();
    assert.deepEqual(logs, ["ctr.log", "ctr.log.1", "ctr.log.2"]);
    const numbers = (s: string) => records(s).map((r) => Number(r[2].slice(5)));
    const cur = numbers(c.log());
    const one = numbers(Deno.readTextFileSync(`${c.logPath}.1`));
    const two = numbers(Deno.readTextFileSync(`${c.logPath}.2`));
    assert.equal(cur.at(-1), 299);
    assert.equal(one.at(-1)! + 1, cur[0], "no line lost between .1 and the log");
    assert.equal(two.at(-1)! + 1, one[0], "no line lost between .2 and .1");
  } finally {
    await c.cleanup();
  }
});

Deno.test("[ocimon] --log-allowlist-dir: a log outside (symlinks resolved) is refused before create", async () => {
  const allowed = Deno.makeTempDirSync();
  const outside = Deno.makeTempDirSync();
  Deno.symlinkSync(outside, join(allowed, "escape"));
  try {
    const c = await launchMonitor({
      name: "allowlist",
      args: ["true"],
      drop: ["--log-path"],
      extra: [
        "--log-path",
        `k8s-file:${join(allowed, "escape", "ctr.log")}`,
        "--log-allowlist-dir",
        allowed,
      ],
    });
    try {
      assert.equal(c.launcher.code, 1, c.launcherStderr);
      assert.match(c.launcherStderr, /^ocimon: log file .* is outside the allowed log directories/);
      await assertNothingCreated(c);
      assert.deepEqual([...Deno.readDirSync(outside)], []);
    } finally {
      await c.cleanup();
    }
    const ok = await launchMonitor({
      name: "allowlist",
      args: ["echo", "allowed"],
      drop: ["--log-path"],
      extra: ["--log-path", join(allowed, "ctr.log"), "--log-allowlist-dir", allowed],
    });
    try {
      assert.equal(ok.launcher.code, 0, ok.launcherStderr);
      await ok.sync.next();
      await ok.start();
      assert.equal(await ok.exitCode(), "0");
      assert.deepEqual(records(Deno.readTextFileSync(join(allowed, "ctr.log"))), [
        ["stdout", "F", "allowed"],
      ]);
    } finally {
      await ok.cleanup();
    }
  } finally {
    Deno.removeSync(allowed, { recursive: true });
    Deno.removeSync(outside, { recursive: true });
  }
});

for (const [monitor, bin] of MONITORS) {
  Deno.test(`[${monitor}] an exec whose log cannot be opened never starts`, async () => {
    const c = await launchMonitor({ name: "execlog", args: ["sleep", "30"] });
    const marker = `sleep ${3000 + Math.floor(Math.random() * 1000)}`;
    try {
      await c.sync.next();
      await c.start();
      const spec = join(c.dir, "process.json");
      Deno.writeTextFileSync(
        spec,
        JSON.stringify({
          args: ["sh", "-c", marker],
          cwd: "/",
          env: ["PATH=/bin"],
          user: { uid: 0, gid: 0 },
        }),
      );
      const r = await run([
        bin,
        "--api-version",
        "1",
        "-c",
        c.cid,
        "-u",
        `${c.cid}-exec`,
        "-r",
        RUNTIME,
        "-b",
        c.bundle,
        "-p",
        join(c.dir, "exec.pid"),
        "-e",
        "--exec-process-spec",
        spec,
        "-l",
        `k8s-file:${join(c.dir, "missing", "exec.log")}`,
        "--sync",
      ]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      await sleep(300);
      assert.deepEqual(processesMentioning(marker), [], "the exec ran");
      assert(!exists(join(c.dir, "missing")));
    } finally {
      await c.cleanup();
    }
  });
}

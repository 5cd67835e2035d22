/**
 * Where conmon defines the behaviour, each case runs through ocimon and
 * through conmon 2.1.6 (the control) with the same argv: the same exit
 * status and conmon's words, and for a refusal nothing run. These are the
 * things conmon's own bats suite (test/*.bats) checks of the command line,
 * written for ocimon; cases for options 2.1.6 lacks are in tests/cli.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CONMON, OCIMON_BIN, RUNTIME, tempDir } from "../support/env.ts";
import { makeBundle } from "../support/bundle.ts";
import { isAlive, launchMonitor, waitFor } from "../support/harness.ts";
import { closeQuietly, pipe } from "../../src/sys/fd.ts";

async function monitor(bin: string, args: string[], env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command(bin, {
    args,
    // A UTF-8 locale, as under podman: glib quotes values with “ ” there (? in C).
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", LC_ALL: "C.UTF-8", ...env },
    clearEnv: true,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  // conmon 2.1.6 prints option-parsing failures on stdout (g_print).
  return { code: out.code, stderr: dec.decode(out.stderr), stdout: dec.decode(out.stdout) };
}

/** The start of every case's argv: a socket directory of the test's own. */
function ids(d: string, cid = "cmp1"): string[] {
  return ["--cid", cid, "--cuuid", cid, "--socket-dir-path", d];
}

/** An argv that conmon and ocimon both accept up to the runtime. */
function full(d: string): string[] {
  return [...ids(d), "-r", RUNTIME, "-b", d, "-p", join(d, "pidfile")];
}

function processSpec(d: string): string {
  const spec = join(d, "process.json");
  Deno.writeTextFileSync(spec, JSON.stringify({ args: ["true"], cwd: "/" }));
  return spec;
}

/** [what, argv in directory d, environment, conmon's words] */
type Refusal = [string, (d: string) => string[], Record<string, string>, string];

const refusals: Refusal[] = [
  ["unknown option", (d) => [...full(d), "--frobnicate"], {}, "Unknown option --frobnicate"],
  ["option without its value", () => ["--cid"], {}, "Missing argument for --cid"],
  [
    "malformed integer",
    (d) => [...full(d), "--exit-delay", "soon"],
    {},
    "Cannot parse integer value “soon” for --exit-delay",
  ],
  [
    "integer out of range",
    (d) => [...full(d), "--timeout", "99999999999"],
    {},
    "Integer value “99999999999” for --timeout out of range",
  ],
  ["no --cid", (d) => ["--socket-dir-path", d], {}, "Container ID not provided. Use --cid"],
  ["no --cuuid", () => ["--cid", "cmp1"], {}, "Container UUID not provided. Use --cuuid"],
  ["no --runtime", (d) => ids(d), {}, "Runtime path not provided. Use --runtime"],
  [
    "a runtime that does not exist",
    (d) => [...ids(d), "--runtime", "/not/a/path"],
    {},
    "Runtime path /not/a/path is not valid",
  ],
  [
    "no log driver (the runtime a directory, as bats' placeholder)",
    (d) => [...ids(d), "--runtime", d],
    {},
    "Log driver not provided. Use --log-path",
  ],
  ["an empty log path", (d) => [...full(d), "-l", ""], {}, "log-path must not be empty"],
  ["a log path of ':'", (d) => [...full(d), "-l", ":"], {}, "log-path must not be empty"],
  ["bare k8s-file", (d) => [...full(d), "-l", "k8s-file"], {}, "k8s-file requires a filename"],
  ["k8s-file:", (d) => [...full(d), "-l", "k8s-file:"], {}, "k8s-file requires a filename"],
  [
    "an unknown log driver",
    (d) => [...full(d), "-l", `invalid:${join(d, "log")}`],
    {},
    "No such log driver invalid",
  ],
  [
    "an unknown log driver beside a good one",
    (d) => [...full(d), "-l", `k8s-file:${join(d, "log")}`, "-l", "invalid:"],
    {},
    "No such log driver invalid",
  ],
  [
    "journald with a 12-character id",
    (d) => [...ids(d, "abcdefghijkl"), "-r", RUNTIME, "-b", d, "-l", "journald:"],
    {},
    "Container ID must be longer than 12 characters",
  ],
  [
    "a k8s-file log that cannot be opened",
    (d) => [...full(d), "-l", "k8s-file:/not/a/path"],
    {},
    "Failed to open log file",
  ],
  [
    "--log-tag with only a k8s-file log",
    (d) => [...full(d), "-l", `k8s-file:${join(d, "log")}`, "--log-tag", "t"],
    {},
    "k8s-file doesn't support --log-tag",
  ],
  [
    "an unknown log level",
    (d) => [...full(d), "--log-level", "loud"],
    {},
    "No such log level loud",
  ],
  [
    "a negative --exit-delay",
    (d) => [...full(d), "-l", "none:", "--exit-delay", "-1"],
    {},
    "Delay before invoking exit command must be greater than or equal to 0",
  ],
  [
    "--exec without --exec-process-spec",
    (d) => [...full(d), "-l", "none:", "-e"],
    {},
    "Exec process spec path not provided. Use --exec-process-spec",
  ],
  [
    "--exec with --restore",
    (d) => [...full(d), "-l", "none:", "-e", "--restore", d],
    {},
    "Cannot use 'exec' and 'restore' at the same time",
  ],
  [
    "--exec-attach without --exec",
    (d) => [...full(d), "-l", "none:", "--exec-attach"],
    { _OCI_ATTACHPIPE: "2" },
    "Attach can only be specified with exec",
  ],
  [
    "--exec-attach on a legacy exec (no --api-version)",
    (
      d,
    ) => [...full(d), "-l", "none:", "-e", "--exec-process-spec", processSpec(d), "--exec-attach"],
    { _OCI_ATTACHPIPE: "2" },
    "Attach can only be specified for a non-legacy exec session",
  ],
  [
    "--exec-attach without _OCI_ATTACHPIPE",
    (d) => [
      ...full(d),
      "-l",
      "none:",
      "--api-version",
      "1",
      "-e",
      "--exec-process-spec",
      processSpec(d),
      "--exec-attach",
    ],
    {},
    "--attach specified but _OCI_ATTACHPIPE was not",
  ],
];

for (const [what, args, env, words] of refusals) {
  Deno.test(`refused (${what}): exit 1 and conmon's words, nothing run, as conmon`, async () => {
    const d = tempDir("compat");
    try {
      // First: the case may end in an option that lacks its value.
      const argv = ["--sync", ...args(d)];
      const before = [...Deno.readDirSync(d)].map((e) => e.name).sort();
      const ours = await monitor(OCIMON_BIN, argv, env, d);
      assert.equal(ours.code, 1, ours.stderr);
      const lines = ours.stderr.trimEnd().split("\n");
      // The words, and a hint unless the words are the whole story (a log that cannot be opened).
      assert(lines.length === 2 || lines.length === 1, `the words and a hint: ${ours.stderr}`);
      assert(lines[0].startsWith("ocimon: ") && lines[0].includes(words), ours.stderr);
      assert.equal(ours.stdout, "");
      // Without --sync too: refused by the launcher, not after it returned 0.
      const launcher = await monitor(OCIMON_BIN, argv.filter((a) => a !== "--sync"), env, d);
      assert.equal(launcher.code, 1, launcher.stderr);
      assert.deepEqual([...Deno.readDirSync(d)].map((e) => e.name).sort(), before);
      const theirs = await monitor(CONMON, argv, env, d);
      assert.equal(theirs.code, 1, `conmon: ${theirs.stderr}${theirs.stdout}`);
      assert(
        (theirs.stderr + theirs.stdout).includes(words),
        `conmon's words: ${theirs.stderr}${theirs.stdout}`,
      );
    } finally {
      Deno.removeSync(d, { recursive: true });
    }
  });
}

Deno.test("seccomp notify: refused, saying why, exit 1 as conmon 2.1.6", async () => {
  for (const o of ["--seccomp-notify-socket", "--seccomp-notify-plugins"]) {
    const d = tempDir("compat");
    try {
      const argv = [...full(d), "-l", "none:", o, join(d, "x"), "--sync"];
      const ours = await monitor(OCIMON_BIN, argv, {}, d);
      assert.equal(ours.code, 1);
      assert.match(
        ours.stderr,
        new RegExp(`^ocimon: option ${o}: seccomp notification is not supported`),
      );
      assert.deepEqual([...Deno.readDirSync(d)], []);
      // conmon 2.1.6 exits 1 too (and says nothing); conmon main has no such option.
      assert.equal((await monitor(CONMON, argv, {}, d)).code, 1);
    } finally {
      Deno.removeSync(d, { recursive: true });
    }
  }
}); // deno-fmt-ignore

/**
 * The bats suite's option tests give `--runtime /tmp` (a directory, which
 * passes access(X_OK)) and no bundle: the launcher accepts them, makes the
 * log, and returns 0; the runtime would fail later.
 */
const accepted: [string, (d: string) => string[], string | undefined][] = [
  ["a bare path", (d) => ["-l", join(d, "ctr.log")], "ctr.log"],
  ["k8s-file:PATH", (d) => ["-l", `k8s-file:${join(d, "ctr.log")}`], "ctr.log"],
  [":PATH", (d) => ["-l", `:${join(d, "ctr.log")}`], "ctr.log"],
  [":journald (a file named journald)", () => ["-l", ":journald"], "journald"],
  ["none:", () => ["-l", "none:"], undefined],
  ["off:", () => ["-l", "off:"], undefined],
  ["null:", () => ["-l", "null:"], undefined],
  ["journald:", () => ["-l", "journald:"], undefined],
  ["passthrough:", () => ["-l", "passthrough:"], undefined],
  ["k8s-file and journald", (d) => ["-l", join(d, "ctr.log"), "-l", "journald:"], "ctr.log"],
  ["--log-size-max", (d) => ["-l", join(d, "ctr.log"), "--log-size-max", "1024"], "ctr.log"],
];

async function monitorGone(pidfile: string): Promise<void> {
  const pid = Number(Deno.readTextFileSync(pidfile));
  // Generous: under TCG on a loaded machine the runtime alone can take seconds.
  await waitFor(() => (isAlive(pid) ? undefined : true), 60_000, `monitor ${pid} to exit`);
}

for (const [what, logArgs, file] of accepted) {
  Deno.test(`accepted with a directory as --runtime (${what}): exit 0, as conmon`, async () => {
    for (const bin of [CONMON, OCIMON_BIN]) {
      const d = tempDir("compat");
      try {
        const pidfile = join(d, "conmon.pid");
        const argv = [
          ...ids(d, "accepted-0123456789"),
          "--runtime",
          d,
          "-P",
          pidfile,
          ...logArgs(d),
        ];
        const r = await monitor(bin, argv, {}, d);
        assert.equal(r.code, 0, `${bin}: ${r.stderr}${r.stdout}`);
        // The monitor proper fails at create, with no one to tell: let it go first.
        await monitorGone(pidfile);
        if (file) assert(Deno.statSync(join(d, file)).isFile, `${bin}: ${file} made`);
        for (const name of ["none", "off", "null", "journald:", "passthrough"]) {
          if (name !== file) assert.throws(() => Deno.lstatSync(join(d, name)), `${bin}: ${name}`);
        }
      } finally {
        Deno.removeSync(d, { recursive: true });
      }
    }
  });
}

Deno.test("a runtime that cannot run (a directory): {data: -1} on the sync pipe, as conmon main", async () => {
  for (const bin of [CONMON, OCIMON_BIN]) {
    const d = tempDir("compat");
    const c = await launchMonitor({
      bin,
      name: "dirruntime",
      args: ["true"],
      drop: ["--runtime", ...(bin === CONMON ? ["--status-file"] : [])],
      extra: ["--runtime", d],
    });
    try {
      assert.equal(c.launcher.code, 0, `${bin}: ${c.launcherStderr}`);
      const msg = await c.sync.next();
      if (bin === CONMON) {
        // 2.1.6 reports a failed create only with something on the runtime's
        // stderr, and a failed exec leaves it empty: the caller reads EOF.
        // conmon main always sends {"data": -1}, as ocimon does.
        assert.equal(msg, null, `conmon 2.1.6 now says ${JSON.stringify(msg)}: update this test`);
      } else {
        assert.equal(msg?.data, -1, `${bin}: ${JSON.stringify(msg)}`);
        assert.match(String(msg?.message), /cannot start/);
      }
    } finally {
      await c.cleanup();
      Deno.removeSync(d, { recursive: true });
    }
  }
});

Deno.test("a bundle without config.json: the runtime's error on the sync pipe, as conmon", async () => {
  for (const bin of [CONMON, OCIMON_BIN]) {
    const d = tempDir("compat");
    const c = await launchMonitor({
      bin,
      name: "noconfig",
      bundle: d,
      drop: bin === CONMON ? ["--status-file"] : [],
    });
    try {
      assert.equal(c.launcher.code, 0, `${bin}: ${c.launcherStderr}`);
      const msg = await c.sync.next();
      assert.equal(msg?.data, -1, `${bin}: ${JSON.stringify(msg)}`);
      assert.match(String(msg?.message), /config\.json/, `${bin}: ${JSON.stringify(msg)}`);
      await monitorGone(c.conmonPidfile);
    } finally {
      await c.cleanup();
      Deno.removeSync(d, { recursive: true });
    }
  }
});

Deno.test("--no-container-partial-message without journald: conmon main's warning, exit 0", async () => {
  const d = tempDir("compat");
  try {
    const argv = [...ids(d), "--runtime", d, "-l", join(d, "ctr.log")];
    const r = await monitor(OCIMON_BIN, [...argv, "--no-container-partial-message"], {}, d);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      "ocimon: --no-container-partial-message has no effect without journald log driver\n",
    );
    // 2.1.6 predates the option.
    assert.match(
      (await monitor(CONMON, [...argv, "--no-container-partial-message"], {}, d)).stdout,
      /Unknown option/,
    );
  } finally {
    Deno.removeSync(d, { recursive: true });
  }
}); // deno-fmt-ignore

/**
 * Runs `script` with one pipe passed as fd 3 (podman's
 * `--runtime-opt --preserve-fds 1`), to exit 0; gives what came through fd 3
 * and the container's log.
 */
async function runWithFd3(
  bin: string,
  script: string,
  opts: { extra?: string[]; monitorEnv?: Record<string, string> } = {},
): Promise<{ fd3: string; log: string }> {
  const [r, w] = pipe();
  const c = await launchMonitor({
    bin,
    name: "fd3",
    args: ["sh", "-c", script],
    drop: bin === CONMON ? ["--status-file"] : [],
    extra: ["--runtime-opt", "--preserve-fds", "--runtime-opt", "1", ...(opts.extra ?? [])],
    preserved: [w],
    monitorEnv: opts.monitorEnv,
  });
  closeQuietly(w);
  const reader = Deno.openSync(`/proc/self/fd/${r}`, { read: true });
  closeQuietly(r);
  try {
    assert.equal(c.launcher.code, 0, `${bin}: ${c.launcherStderr}`);
    const msg = await c.sync.next();
    assert(Number(msg?.data) > 0, `${bin}: ${JSON.stringify(msg)}`);
    await c.start();
    assert.equal(await c.exitCode(), "0", bin);
    const buf = new Uint8Array(100);
    const n = await reader.read(buf);
    return { fd3: new TextDecoder().decode(buf.subarray(0, n ?? 0)), log: c.log() };
  } finally {
    reader.close();
    await c.cleanup();
  }
}

Deno.test("podman's --runtime-opt --preserve-fds N: the container writes to the fds passed, as conmon", async () => {
  for (const bin of [CONMON, OCIMON_BIN]) {
    const { fd3 } = await runWithFd3(bin, "echo through fd 3 >&3");
    assert.equal(fd3, "through fd 3\n", bin);
  }
});

/**
 * Socket activation: systemd gives a service its sockets as fds 3.. with
 * LISTEN_FDS and LISTEN_PID. runc takes them as systemd's only when
 * LISTEN_PID is its own pid; then it hands them to the container with
 * LISTEN_FDS=N and LISTEN_PID=1. With --replace-listen-pid the monitor sets
 * LISTEN_PID to the runtime's pid; without it, and LISTEN_PID someone
 * else's, runc leaves them alone (the fd still passes as a preserved one).
 * crun does otherwise (it gives the container LISTEN_PID=1 and no
 * LISTEN_FDS, either way): there the container must see what it sees under
 * conmon, the control, which runs first.
 */
const RUNC = RUNTIME.split("/").pop() === "runc";
for (const replace of [true, false]) {
  Deno.test(`LISTEN_FDS=1 ${replace ? "with --replace-listen-pid" : "without --replace-listen-pid, LISTEN_PID not the monitor's"}: the container sees what it sees under conmon${RUNC ? (replace ? " (runc: LISTEN_FDS=1, LISTEN_PID=1)" : " (runc: neither)") : ""}`, async () => {
    const seen: string[] = [];
    for (const bin of [CONMON, OCIMON_BIN]) {
      const { fd3, log } = await runWithFd3(
        bin,
        'echo "L=$LISTEN_PID,$LISTEN_FDS"; echo via fd 3 >&3',
        {
          extra: replace ? ["--replace-listen-pid"] : [],
          // As systemd starts podman: the sockets were meant for podman (pid 1 stands in for it).
          monitorEnv: { LISTEN_FDS: "1", LISTEN_PID: "1" },
        },
      );
      assert.equal(fd3, "via fd 3\n", bin);
      const line = /stdout F (L=.*)\n/.exec(log);
      assert(line, `${bin}: ${log}`);
      seen.push(line[1]);
    }
    assert.equal(seen[1], seen[0], `ocimon's container saw ${seen[1]}, conmon's ${seen[0]}`);
    if (RUNC) assert.equal(seen[1], replace ? "L=1,1" : "L=,");
  });
}

Deno.test("--runtime given as a name is found in the working directory, as conmon", async () => {
  const d = tempDir("compat");
  try {
    Deno.symlinkSync(RUNTIME, join(d, "myruntime"));
    const bundle = makeBundle(d, "b", { args: ["true"] });
    const args = [
      "-c",
      `rel${Deno.pid}`,
      "-u",
      "u1",
      "-r",
      "myruntime",
      "-b",
      bundle,
      "-p",
      join(d, "pidfile"),
      "-l",
      `k8s-file:${join(d, "log")}`,
      // A socket directory of the test's own: conmon's default, /var/run/crio,
      // exists only once something has made it (conmon exits 1 without it).
      "--socket-dir-path",
      d,
      "--sync",
    ]; // deno-fmt-ignore
    for (const bin of [CONMON, OCIMON_BIN]) {
      // Accepted, the runtime creates the container; --timeout ends the
      // wait for a start that never comes (exit status -1 & 0xff).
      const r = await monitor(bin, [...args, "--timeout", "1"], {}, d);
      assert.equal(r.code, 255, `${bin}: stderr ${r.stderr}; stdout ${r.stdout}`);
      assert.doesNotMatch(r.stderr, /runtime/i, `${bin}: ${r.stderr}`);
      await new Deno.Command(RUNTIME, { args: ["delete", "--force", `rel${Deno.pid}`] }).output();
    }
  } finally {
    Deno.removeSync(d, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCommandLine, parseRaw, UsageError } from "../../src/cli/parse.ts";
import type { Config } from "../../src/cli/config.ts";
import { exists } from "../../src/util/fs.ts";

const dir = Deno.makeTempDirSync();
const bundle = join(dir, "bundle");
Deno.mkdirSync(bundle);
Deno.writeTextFileSync(join(bundle, "config.json"), "{}");
const runtime = join(dir, "runc");
Deno.writeTextFileSync(runtime, "#!/bin/sh\n");
Deno.chmodSync(runtime, 0o755);
const base = ["-c", "ctr1", "-u", "uuid1", "-r", runtime, "-b", bundle, "-l", "none"];

function config(args: string[]): Config {
  const r = parseCommandLine(args, dir);
  assert.equal(r.action, "monitor");
  return (r as { config: Config }).config;
}

function usageError(args: string[], pattern: RegExp): void {
  assert.throws(() => parseCommandLine(args, dir), (e: unknown) => {
    assert(e instanceof UsageError, `UsageError expected, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("podman's argv parses, long and short forms alike", () => {
  const c = config([
    "--api-version",
    "1",
    "-c",
    "ctr1",
    "-u",
    "uuid1",
    "-r",
    runtime,
    "-b",
    bundle,
    "-p",
    join(dir, "pidfile"),
    "-n",
    "name1",
    "--exit-dir",
    dir,
    "--full-attach",
    "-l",
    `k8s-file:${join(dir, "ctr.log")}`,
    "--log-level",
    "debug",
    "--syslog",
    "--conmon-pidfile",
    join(dir, "conmon.pid"),
    "--exit-command",
    "/bin/sh",
    "--exit-command-arg",
    "--root",
    "--exit-command-arg",
    "/var/lib/containers",
    "--exit-command-arg",
    "container",
    "--exit-command-arg",
    "cleanup",
    "-i",
    "-t",
  ]);
  assert.equal(c.apiVersion, 1);
  assert.equal(c.cid, "ctr1");
  assert.equal(c.cuuid, "uuid1");
  assert.equal(c.name, "name1");
  assert.equal(c.containerPidfile, join(dir, "pidfile"));
  assert.deepEqual(c.logDrivers, [{ kind: "k8s-file", path: join(dir, "ctr.log") }]);
  assert.deepEqual(c.exitCommandArgs, ["--root", "/var/lib/containers", "container", "cleanup"]);
  assert.equal(c.stdin, true);
  assert.equal(c.terminal, true);
  assert.equal(c.fullAttach, true);
});

Deno.test("defaults: pidfile in the bundle, no logs, api 0, no timeout", () => {
  const c = config(base);
  assert.equal(c.containerPidfile, join(bundle, "pidfile-ctr1"));
  assert.deepEqual(c.logDrivers, [{ kind: "none" }]);
  assert.equal(c.apiVersion, 0);
  assert.equal(c.timeout, 0);
  assert.equal(c.sync, false);
});

Deno.test("--opt=value, attached short values and grouped short booleans", () => {
  const c = config([
    "--cid=ctr1",
    "-uuuid1",
    `--runtime=${runtime}`,
    "-b",
    bundle,
    "-it",
    "-T5",
    "-lnone",
  ]);
  assert.equal(c.cid, "ctr1");
  assert.equal(c.cuuid, "uuid1");
  assert.equal(c.stdin && c.terminal, true);
  assert.equal(c.timeout, 5);
});

Deno.test("log paths: bare path is k8s-file, passthrough and none, repeatable", () => {
  const c = config([...base, "-l", "rel.log", "-l", "passthrough", "--log-path", "none"]);
  assert.deepEqual(c.logDrivers, [
    { kind: "none" },
    { kind: "k8s-file", path: join(dir, "rel.log") },
    { kind: "passthrough" },
    { kind: "none" },
  ]);
});

Deno.test("the flags podman and CRI-O pass for syslog, journald tags, -s, notify and the log cap are accepted", () => {
  config([
    ...base,
    "--syslog",
    "--log-tag",
    "t",
    "--no-sync-log",
    "-s",
    "--sdnotify-socket",
    "/x",
    "--log-global-size-max",
    "10",
  ]);
});

Deno.test("--api-version is a flag (API 1) that takes a following number, as podman writes it", () => {
  assert.equal(config([...base, "--api-version", "-n", "x"]).apiVersion, 1);
  assert.equal(config([...base, "--api-version"]).apiVersion, 1);
  assert.equal(config([...base, "--api-version", "1"]).apiVersion, 1);
  assert.equal(config([...base, "--api-version=2"]).apiVersion, 2);
});

Deno.test("help and version", () => {
  assert.equal(parseCommandLine(["--help"], dir).action, "help");
  assert.equal(parseCommandLine(["--version"], dir).action, "version");
});

Deno.test("bad input: one clear message naming the problem", () => {
  usageError([...base, "--bogus"], /unknown option --bogus/);
  usageError([...base, "-Z"], /unknown option -Z/);
  usageError(["-u", "u", "-r", runtime, "-b", bundle], /--cid is required/);
  usageError(["-c", "c", "-r", runtime, "-b", bundle], /--cuuid is required/);
  usageError(["-c", "c", "-u", "u", "-b", bundle], /--runtime is required/);
  usageError([...base, "--timeout", "ten"], /--timeout: 'ten' is not a whole number/);
  usageError([...base, "--timeout", "-1"], /--timeout: -1 is below 0/);
  usageError([...base, "--api-version=1.5"], /--api-version/);
  usageError([...base, "--api-version", "1.5"], /unexpected argument .1\.5./);
  usageError([...base, "--log-size-max", "1k"], /--log-size-max/);
  usageError([...base, "--exit-delay", ""], /--exit-delay/);
  usageError([...base, "--sdnotify-socket", ""], /--sdnotify-socket needs a socket path/);
  usageError(
    [...base, "--sdnotify-socket", "/" + "x".repeat(107)],
    /--sdnotify-socket: .* too long/,
  );
  usageError(
    ["-c", "c", "-u", "u", "-r", join(dir, "nope"), "-b", bundle],
    /--runtime: .*nope is not an executable file/,
  );
  usageError(
    ["-c", "c", "-u", "u", "-r", join(bundle, "config.json"), "-b", bundle],
    /not an executable file/,
  );
  usageError(
    ["-c", "c", "-u", "u", "-r", "no-such-runtime", "-b", bundle],
    /--runtime: .*\/no-such-runtime is not an executable file/,
  );
  usageError(["-c", "c", "-u", "u", "-r", runtime, "-b", dir], /--bundle: .* has no config.json/);
  usageError(
    ["-c", "c", "-u", "u", "-r", runtime, "-b", join(dir, "missing")],
    /--bundle: .* is not a directory/,
  );
  usageError([...base, "-c", "a/b"], /--cid: 'a\/b' is not a safe file name/);
  usageError([...base, "-c", ".."], /--cid: '..' is not a safe file name/);
  usageError([...base, "-c", ""], /--cid: '' is not a safe file name/);
  usageError([...base, "-u", "../x"], /--cuuid: '..\/x' is not a safe file name/);
  usageError([...base, "-l", "syslog:/x"], /unknown log driver 'syslog'/);
  usageError([...base, "--log-level", "loud"], /--log-level: 'loud'/);
  usageError([...base, "--exit-dir", join(dir, "missing")], /--exit-dir: .* is not a directory/);
  usageError([...base, "--cgroup", "relative/cg"], /--cgroup: .* must be an absolute/);
  usageError([...base, "--sync=yes"], /--sync takes no value/);
  usageError([...base, "--cid"], /--cid needs a value/);
  usageError([...base, "stray"], /unexpected argument 'stray'/);
  usageError([...base, "-e"], /--exec-process-spec is required with --exec/);
});

Deno.test("parseRaw keeps the last of a repeated single option, all of a repeatable one", () => {
  const v = parseRaw([
    "-c",
    "a",
    "-c",
    "b",
    "--runtime-arg",
    "--debug",
    "--runtime-arg",
    "--log=x",
  ]);
  assert.equal(v.cid, "b");
  assert.deepEqual(v["runtime-arg"], ["--debug", "--log=x"]);
});

// --- log options, as conmon main's src/ctr_logging.c and src/cli.c take them ---

const noLog = base.slice(0, -2); // base without its "-l none"
const longCid = "0123456789abcdef"; // journald wants more than 12 characters
const logDrivers = (...l: string[]) =>
  config([...noLog, ...l.flatMap((x) => ["-l", x])]).logDrivers;

Deno.test("--log-path grammar: none:, off:, null: and bare off, null log nothing", () => {
  for (const v of ["none", "none:", "off", "off:", "null", "null:", "none:/x/y", "off:rel"]) {
    assert.deepEqual(logDrivers(v), [{ kind: "none" }], v);
  }
  assert.equal(exists(join(dir, "off")) || exists(join(dir, "null")), false);
});

Deno.test("--log-path grammar: passthrough: and passthrough, :PATH and bare names are files", () => {
  assert.deepEqual(logDrivers("passthrough:"), [{ kind: "passthrough" }]);
  assert.deepEqual(logDrivers("passthrough"), [{ kind: "passthrough" }]);
  assert.deepEqual(logDrivers(":rel.log"), [{ kind: "k8s-file", path: join(dir, "rel.log") }]);
  assert.deepEqual(logDrivers(":/abs/x.log"), [{ kind: "k8s-file", path: "/abs/x.log" }]);
  assert.deepEqual(logDrivers("k8s-file:a.log"), [{ kind: "k8s-file", path: join(dir, "a.log") }]);
  assert.deepEqual(logDrivers("plain.log"), [{ kind: "k8s-file", path: join(dir, "plain.log") }]);
});

Deno.test("--log-path grammar: journald: and journald are the journald driver", () => {
  const c = config([
    ...noLog,
    "-c",
    longCid,
    "-l",
    "journald:",
    "-l",
    "journald",
    "-l",
    "journald:x",
  ]);
  assert.deepEqual(c.logDrivers, [{ kind: "journald" }, { kind: "journald" }, {
    kind: "journald",
  }]);
});

Deno.test("--log-path: bare k8s-file requires a filename; empty and unknown drivers refused", () => {
  usageError([...noLog, "-l", "k8s-file"], /k8s-file requires a filename/);
  usageError([...noLog, "-l", "k8s-file:"], /k8s-file requires a filename/);
  usageError([...noLog, "-l", ""], /--log-path: the value must not be empty/);
  usageError([...noLog, "-l", "::"], /--log-path: the value must not be empty/);
  usageError([...noLog, "-l", "syslog:/x"], /unknown log driver 'syslog'/);
});

Deno.test("no --log-path at all is refused, as conmon's 'Log driver not provided'", () => {
  usageError(noLog, /option --log-path is required/);
});

Deno.test("--log-tag and --log-label with only k8s-file logs are refused", () => {
  const k8s = [...noLog, "-c", longCid, "-l", join(dir, "t.log")];
  usageError([...k8s, "--log-tag", "t"], /--log-tag: the k8s-file log has no tags/);
  usageError([...k8s, "--log-tag", ""], /--log-tag/);
  usageError([...k8s, "--log-label", "A=b"], /--log-label: the k8s-file log has no labels/);
  // With journald alongside, or with no k8s-file log, conmon takes them.
  const both = config([...k8s, "-l", "journald:", "--log-tag", "t", "--log-label", "A=b"]);
  assert.equal(both.logTag, "t");
  assert.deepEqual(both.logLabels, ["A=b"]);
  assert.equal(config([...base, "--log-tag", "t"]).logTag, "t");
});

Deno.test("--log-label with journald: KEY=VALUE, one '=', KEY of A-Z, 0-9 and _", () => {
  const j = [...noLog, "-c", longCid, "-l", "journald:"];
  const c = config([...j, "--log-label", "A_1=x y", "--log-label", "EMPTY="]);
  assert.deepEqual(c.logLabels, ["A_1=x y", "EMPTY="]);
  usageError([...j, "--log-label", "NOEQUALS"], /--log-label: 'NOEQUALS' is not KEY=VALUE/);
  usageError([...j, "--log-label", "A=b=c"], /--log-label: 'A=b=c'/);
  usageError([...j, "--log-label", "=x"], /--log-label: '=x'/);
  usageError([...j, "--log-label", "my%LABEL=x"], /--log-label: 'my%LABEL=x'/);
  usageError([...j, "--log-label", "lower=x"], /--log-label: 'lower=x'/);
});

Deno.test("journald needs a container id longer than 12 characters, as conmon", () => {
  usageError([...noLog, "-c", "123456789012", "-l", "journald:"], /longer than 12 characters/);
  config([...noLog, "-c", "1234567890123", "-l", "journald:"]);
});

Deno.test("--log-rotate, --log-max-files: default 1, bounds as conmon's", () => {
  const d = config(base);
  assert.equal(d.logRotate, false);
  assert.equal(d.logMaxFiles, 1);
  const c = config([...base, "--log-rotate", "--log-max-files", "3"]);
  assert.equal(c.logRotate, true);
  assert.equal(c.logMaxFiles, 3);
  usageError([...base, "--log-max-files", "-1"], /--log-max-files: -1 is below 0/);
  usageError([...base, "--log-max-files", "2147483648"], /--log-max-files: .*out of range/);
  usageError([...base, "--log-rotate", "--log-max-files", "0"], /at least 1 with --log-rotate/);
  assert.equal(config([...base, "--log-max-files", "0"]).logMaxFiles, 0); // ignored without rotation
});

Deno.test("--log-allowlist-dir, --log-global-size-max, --no-container-partial-message parse", () => {
  const c = config([
    ...base,
    "--log-allowlist-dir",
    "logs",
    "--log-allowlist-dir",
    "",
    "--log-allowlist-dir",
    "/var/log",
    "--log-global-size-max",
    "16777216",
    "--no-container-partial-message",
  ]);
  assert.deepEqual(c.logAllowlistDirs, [join(dir, "logs"), "/var/log"]);
  assert.equal(c.logGlobalSizeMax, 16777216);
  assert.equal(c.noContainerPartialMessage, true);
  const d = config(base);
  assert.deepEqual([d.logAllowlistDirs, d.logGlobalSizeMax, d.noContainerPartialMessage], [
    [],
    -1,
    false,
  ]);
});

Deno.test("--runtime: a relative name is taken from the working directory, as conmon's access(X_OK)", () => {
  assert.equal(
    config(["-c", "c", "-u", "u", "-r", "runc", "-b", bundle, "-l", "none"]).runtime,
    runtime,
  );
});

Deno.test("an exec without --bundle (CRI-O's ExecSync) has no bundle endpoints; with one it has", () => {
  const spec = join(dir, "process.json");
  Deno.writeTextFileSync(spec, "{}");
  const execSync = ["-c", "c", "-r", runtime, "-e", "--exec-process-spec", spec, "-l", "none"];
  const c = config(execSync);
  assert.equal(c.bundleEndpoints, false);
  assert.equal(c.bundle, dir);
  assert.equal(config([...execSync, "-b", bundle]).bundleEndpoints, true);
  assert.equal(config(base).bundleEndpoints, true);
});

Deno.test("--exec-attach: only with --exec, API 1 and _OCI_ATTACHPIPE, as conmon", () => {
  const spec = join(dir, "process.json");
  Deno.writeTextFileSync(spec, "{}");
  const exec = [...base, "-e", "--exec-process-spec", spec];
  usageError([...base, "--exec-attach"], /--exec-attach can only be used with --exec/);
  usageError([...exec, "--exec-attach"], /non-legacy exec session/);
  Deno.env.delete("_OCI_ATTACHPIPE");
  usageError([...exec, "--api-version", "1", "--exec-attach"], /_OCI_ATTACHPIPE/);
  Deno.env.set("_OCI_ATTACHPIPE", "5");
  try {
    assert.equal(config([...exec, "--api-version", "1", "--exec-attach"]).execAttach, true);
  } finally {
    Deno.env.delete("_OCI_ATTACHPIPE");
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  configWarnings,
  parseCommandLine,
  parseRaw,
  strtolBase0,
  UsageError,
} from "../../src/cli/parse.ts";
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

Deno.test("strtolBase0 reads as C's strtol(s, &end, 0)", () => {
  assert.deepEqual(strtolBase0("42"), { value: 42n, used: 2 });
  assert.deepEqual(strtolBase0("-0x1F"), { value: -31n, used: 5 });
  assert.deepEqual(strtolBase0("017"), { value: 15n, used: 3 });
  assert.deepEqual(strtolBase0("0"), { value: 0n, used: 1 });
  assert.deepEqual(strtolBase0("0x"), { value: 0n, used: 1 }); // "0", then "x" is left
  assert.deepEqual(strtolBase0("09"), { value: 0n, used: 1 });
  assert.deepEqual(strtolBase0("\t 5z"), { value: 5n, used: 3 });
  assert.deepEqual(strtolBase0("z"), { value: 0n, used: 0 });
  assert.deepEqual(strtolBase0("-"), { value: 0n, used: 0 });
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

Deno.test("bad input: conmon's words where conmon refuses it (src/cli.c, glib)", () => {
  usageError([...base, "--bogus"], /^option parsing failed: Unknown option --bogus$/);
  usageError([...base, "--bogus=1"], /^option parsing failed: Unknown option --bogus=1$/);
  usageError([...base, "-Z"], /^option parsing failed: Unknown option -Z$/);
  usageError([...base, "--cid"], /^option parsing failed: Missing argument for --cid$/);
  usageError([...base, "-c"], /^option parsing failed: Missing argument for -c$/);
  usageError(["-u", "u", "-r", runtime, "-b", bundle], /^Container ID not provided. Use --cid$/);
  usageError(
    ["-c", "c", "-r", runtime, "-b", bundle],
    /^Container UUID not provided. Use --cuuid$/,
  );
  usageError(["-c", "c", "-u", "u", "-b", bundle], /^Runtime path not provided. Use --runtime$/);
  usageError(
    ["-c", "c", "-u", "u", "-r", join(dir, "nope"), "-b", bundle],
    /^Runtime path .*\/nope is not valid: No such file or directory$/,
  );
  usageError( // a file without an x bit: access(X_OK) fails, even for root
    ["-c", "c", "-u", "u", "-r", join(bundle, "config.json"), "-b", bundle],
    /^Runtime path .*config.json is not valid: Permission denied$/,
  );
  usageError(
    ["-c", "c", "-u", "u", "-r", "no-such-runtime", "-b", bundle],
    /^Runtime path no-such-runtime is not valid: No such file or directory$/,
  );
  usageError([...base, "-e"], /^Exec process spec path not provided. Use --exec-process-spec$/);
  usageError(
    [...base, "--timeout", "ten"],
    /^option parsing failed: Cannot parse integer value “ten” for --timeout$/,
  );
  usageError([...base, "--api-version=1.5"], /Cannot parse integer value “1.5” for --api-version/);
  usageError(
    [...base, "--log-size-max", "1k"],
    /Cannot parse integer value “1k” for --log-size-max/,
  );
  usageError([...base, "--exit-delay", ""], /Cannot parse integer value “” for --exit-delay/);
  usageError(
    [...base, "--exit-delay", "99999999999"],
    /^option parsing failed: Integer value “99999999999” for --exit-delay out of range$/,
  );
  usageError(
    [...base, "--exit-delay", "-1"],
    /^Delay before invoking exit command must be greater than or equal to 0$/,
  );
  usageError([...base, "-l", "syslog:/x"], /^No such log driver syslog$/);
  usageError([...base, "--log-level", "loud"], /^No such log level loud$/);
  usageError(
    [...base, "-e", "--restore", dir],
    /^Cannot use 'exec' and 'restore' at the same time$/,
  );
}); // deno-fmt-ignore

Deno.test("bad input conmon lets through: one clear line of ocimon's own", () => {
  usageError([...base, "--api-version", "1.5"], /^unexpected argument '1\.5'$/);
  usageError([...base, "stray"], /^unexpected argument 'stray'$/);
  usageError([...base, "--", "x"], /^unexpected argument 'x'$/);
  usageError([...base, "--sync=yes"], /^option --sync takes no value$/);
  usageError([...base, "--sdnotify-socket", ""], /--sdnotify-socket needs a socket path/);
  usageError(
    [...base, "--sdnotify-socket", "/" + "x".repeat(107)],
    /--sdnotify-socket: .* too long/,
  );
  usageError(
    ["-c", "c", "-u", "u", "-r", runtime, "-b", join(dir, "missing"), "-l", "none"],
    /--bundle: .* is not a directory/,
  );
  usageError([...base, "-c", "a/b"], /--cid: 'a\/b' is not a safe file name/);
  usageError([...base, "-c", ".."], /--cid: '..' is not a safe file name/);
  usageError([...base, "-c", ""], /--cid: '' is not a safe file name/);
  usageError([...base, "-u", "../x"], /--cuuid: '..\/x' is not a safe file name/);
  usageError([...base, "--exit-dir", join(dir, "missing")], /--exit-dir: .* is not a directory/);
  usageError([...base, "--cgroup", "relative/cg"], /--cgroup: .* must be an absolute/);
  usageError([...base, "--preserve-fds", "-1"], /^option --preserve-fds: -1 is below 0$/);
  usageError([...base, "--restore", ""], /^option --restore needs the checkpoint's directory$/);
});

Deno.test("--seccomp-notify-socket and --seccomp-notify-plugins are refused, saying why", () => {
  for (const o of ["--seccomp-notify-socket", "--seccomp-notify-plugins"]) {
    usageError(
      [...base, o, "x"],
      new RegExp(`^option ${o}: seccomp notification is not supported: .*without it$`),
    );
  }
  // --help and --version still answer, as glib's do.
  assert.equal(
    parseCommandLine([...base, "--seccomp-notify-socket", "x", "--help"], dir).action,
    "help",
  );
});

Deno.test("conmon's order: the first problem conmon would name is the one named", () => {
  // log-max-files comes before the container id; the id before the rest.
  usageError(["--log-max-files", "-1"], /^log-max-files must be non-negative, got -1$/);
  usageError(["-r", join(dir, "nope"), "-l", ""], /^Container ID not provided/);
  usageError(["-c", "c", "--exec-attach"], /^Attach can only be specified with exec$/);
  usageError(["-c", "c", "-e", "--exec-attach"], /^Attach can only be specified for a non-legacy/);
  usageError(["-c", "c", "--log-level", "x", "-e", "--exec-attach"], /^No such log level x$/);
  usageError(["-c", "c", "-r", join(dir, "nope"), "-l", ""], /^Container UUID not provided/);
  // The log options come last: a missing runtime is named first.
  usageError(["-c", "c", "-u", "u", "-l", "bogus:"], /^Runtime path not provided/);
  usageError([...noLogArgs(), "-e"], /^Exec process spec path not provided/);
  // The safe-name check (ocimon's) comes after conmon's own.
  usageError(["-c", "a/b", "-u", "u"], /^Runtime path not provided/);
});

function noLogArgs(): string[] {
  return ["-c", "c", "-u", "u", "-r", runtime, "-b", bundle];
}

Deno.test("every refusal has a second line: ocimon's hint, or where to find the options", () => {
  for (
    const args of [
      ["--bogus"],
      [],
      ["-c", "c"],
      ["-c", "c", "-u", "u"],
      [...noLogArgs()],
      [...noLogArgs(), "-l", "k8s-file:"],
      [...noLogArgs(), "-c", "short", "-l", "journald:"],
    ]
  ) {
    assert.throws(() => parseCommandLine(args, dir), (e: unknown) => {
      assert(e instanceof UsageError);
      assert(e.hint === undefined || /^\(.*\)$/.test(e.hint) || /--help/.test(e.hint), e.hint);
      return true;
    });
  }
  const e = (() => {
    try {
      parseCommandLine(["-c", "c", "-u", "u"], dir);
    } catch (err) {
      return err as UsageError;
    }
  })();
  assert.equal(e?.hint, "(--runtime: the OCI runtime, runc or crun)");
});

Deno.test("the runtime is checked as conmon does, with access(X_OK); the bundle is left to it", () => {
  // A directory passes access(X_OK) (bats' option tests use --runtime /tmp):
  // it fails at create, reported on the sync pipe.
  assert.equal(config(["-c", "c", "-u", "u", "-r", dir, "-b", bundle, "-l", "none"]).runtime, dir);
  // A bundle without config.json is the runtime's to refuse.
  assert.equal(config(["-c", "c", "-u", "u", "-r", runtime, "-b", dir, "-l", "none"]).bundle, dir);
  // No --bundle: the working directory, whatever it holds.
  assert.equal(config(["-c", "c", "-u", "u", "-r", runtime, "-l", "none"]).bundle, dir);
});

Deno.test("integers as glib reads them: strtol base 0, a C int or int64", () => {
  assert.equal(config([...base, "--timeout", "0x10"]).timeout, 16);
  assert.equal(config([...base, "--timeout", "010"]).timeout, 8);
  assert.equal(config([...base, "--timeout", " 7"]).timeout, 7);
  assert.equal(config([...base, "--timeout", "+7"]).timeout, 7);
  usageError([...base, "--timeout", "7 "], /Cannot parse integer value “7 ” for --timeout/);
  usageError([...base, "--timeout", "08"], /Cannot parse integer value “08” for --timeout/);
  usageError([...base, "--timeout", "0x"], /Cannot parse integer value “0x” for --timeout/);
  usageError(
    [...base, "--timeout", "2147483648"],
    /Integer value “2147483648” for --timeout out of range/,
  );
  assert.equal(config([...base, "--timeout", "2147483647"]).timeout, 2147483647);
  assert.equal(config([...base, "--timeout", "-2147483648"]).timeout, 0); // <= 0: no timeout, as conmon
  assert.equal(config([...base, "--log-size-max", "4294967296"]).logSizeMax, 4294967296);
  assert.equal(config([...base, "--log-size-max", "-5"]).logSizeMax, -5); // <= 0: no limit, as conmon
  usageError(
    [...base, "--log-size-max", "9223372036854775808"],
    /Integer value “9223372036854775808” for --log-size-max out of range/,
  );
}); // deno-fmt-ignore

Deno.test("exec: the legacy API needs no --cuuid, API 1 does, as conmon", () => {
  const spec = join(dir, "process.json");
  Deno.writeTextFileSync(spec, "{}");
  const exec = ["-c", "c", "-r", runtime, "-b", bundle, "-l", "none", "-e", "--exec-process-spec", spec];
  assert.equal(config(exec).cuuid, undefined);
  usageError([...exec, "--api-version", "1"], /^Container UUID not provided. Use --cuuid$/);
  assert.equal(config([...exec, "--api-version", "1", "-u", "u"]).cuuid, "u");
}); // deno-fmt-ignore

Deno.test("--restore, --restore-arg (an alias of --runtime-opt), --replace-listen-pid parse", () => {
  const c = config([
    ...base,
    "--restore",
    "checkpoint",
    "--runtime-opt",
    "--tcp-established",
    "--restore-arg",
    "--file-locks",
    "--runtime-opt",
    "--tcp-close",
    "--replace-listen-pid",
  ]);
  assert.equal(c.restore, join(dir, "checkpoint"));
  assert.deepEqual(c.runtimeOpts, ["--tcp-established", "--file-locks", "--tcp-close"]);
  assert.equal(c.replaceListenPid, true);
  const d = config(base);
  assert.deepEqual([d.restore, d.runtimeOpts, d.replaceListenPid], [undefined, [], false]);
  // --pidfile and --container-pidfile are one option: the last one given wins.
  assert.equal(config([...base, "-p", "a", "--pidfile", "b"]).containerPidfile, join(dir, "b"));
  assert.equal(config([...base, "--pidfile", "b", "-p", "a"]).containerPidfile, join(dir, "a"));
});

Deno.test("--no-container-partial-message without journald: conmon's warning, and it goes on", () => {
  const k8s = [...noLogArgs(), "-l", join(dir, "w.log"), "--no-container-partial-message"];
  assert.deepEqual(configWarnings(config(k8s)), [
    "--no-container-partial-message has no effect without journald log driver",
  ]);
  assert.deepEqual(configWarnings(config([...k8s, "--log-level", "error"])), []);
  assert.deepEqual(
    configWarnings(config([...k8s, "-c", "0123456789abcdef", "-l", "journald:"])),
    [],
  );
  assert.deepEqual(configWarnings(config(base)), []);
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
  usageError([...noLog, "-l", "k8s-file"], /^k8s-file requires a filename$/);
  usageError([...noLog, "-l", "k8s-file:"], /^k8s-file requires a filename$/);
  usageError([...noLog, "-l", ""], /^log-path must not be empty$/);
  usageError([...noLog, "-l", ":"], /^log-path must not be empty$/);
  usageError([...noLog, "-l", "::"], /^log-path must not be empty$/);
  usageError([...noLog, "-l", "syslog:/x"], /^No such log driver syslog$/);
  usageError([...noLog, "-l", "invalid:"], /^No such log driver invalid$/);
  usageError([...noLog, "-l", "x.log", "-l", "invalid:x.log"], /^No such log driver invalid$/);
});

Deno.test("no --log-path at all is refused, as conmon's 'Log driver not provided'", () => {
  usageError(noLog, /^Log driver not provided. Use --log-path$/);
});

Deno.test("--log-tag and --log-label with only k8s-file logs are refused", () => {
  const k8s = [...noLog, "-c", longCid, "-l", join(dir, "t.log")];
  usageError([...k8s, "--log-tag", "t"], /^k8s-file doesn't support --log-tag$/);
  usageError([...k8s, "--log-tag", ""], /^k8s-file doesn't support --log-tag$/);
  usageError([...k8s, "--log-label", "A=b"], /^k8s-file doesn't support --log-label$/);
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
  const format = "Container labels must be in format LABEL=VALUE";
  usageError(
    [...j, "--log-label", "NOEQUALS"],
    new RegExp(`^${format} \\(none or more than one '=' present in 'NOEQUALS'\\)$`),
  );
  usageError([...j, "--log-label", "A=b=c"], new RegExp(`^${format} \\(none or more .*'A=b=c'`));
  usageError(
    [...j, "--log-label", "=x"],
    new RegExp(`^${format} \\(no LABEL present in '=x'\\)$`),
  );
  const names = "Container label names must contain only uppercase letters, numbers and underscore";
  usageError([...j, "--log-label", "my%LABEL=x"], new RegExp(`^${names} \\(in 'my%LABEL=x'\\)$`));
  usageError([...j, "--log-label", "lower=x"], new RegExp(`^${names} \\(in 'lower=x'\\)$`));
});

Deno.test("journald needs a container id longer than 12 characters, as conmon", () => {
  usageError(
    [...noLog, "-c", "123456789012", "-l", "journald:"],
    /^Container ID must be longer than 12 characters$/,
  );
  config([...noLog, "-c", "1234567890123", "-l", "journald:"]);
});

Deno.test("--log-rotate, --log-max-files: default 1, bounds as conmon's", () => {
  const d = config(base);
  assert.equal(d.logRotate, false);
  assert.equal(d.logMaxFiles, 1);
  const c = config([...base, "--log-rotate", "--log-max-files", "3"]);
  assert.equal(c.logRotate, true);
  assert.equal(c.logMaxFiles, 3);
  usageError([...base, "--log-max-files", "-1"], /^log-max-files must be non-negative, got -1$/);
  usageError(
    [...base, "--log-max-files", "2147483648"],
    /^option parsing failed: Integer value “2147483648” for --log-max-files out of range$/,
  );
  usageError(
    [...base, "--log-rotate", "--log-max-files", "0"],
    /^log-max-files must be at least 1 when log-rotate is enabled, got 0$/,
  );
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
  usageError([...base, "--exec-attach"], /^Attach can only be specified with exec$/);
  usageError(
    [...exec, "--exec-attach"],
    /^Attach can only be specified for a non-legacy exec session$/,
  );
  Deno.env.delete("_OCI_ATTACHPIPE");
  usageError(
    [...exec, "--api-version", "1", "--exec-attach"],
    /^--attach specified but _OCI_ATTACHPIPE was not$/,
  );
  Deno.env.set("_OCI_ATTACHPIPE", "5");
  try {
    assert.equal(config([...exec, "--api-version", "1", "--exec-attach"]).execAttach, true);
  } finally {
    Deno.env.delete("_OCI_ATTACHPIPE");
  }
});

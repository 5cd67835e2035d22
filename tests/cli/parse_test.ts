import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCommandLine, parseRaw, UsageError } from "../../src/cli/parse.ts";
import type { Config } from "../../src/cli/config.ts";

const dir = Deno.makeTempDirSync();
const bundle = join(dir, "bundle");
Deno.mkdirSync(bundle);
Deno.writeTextFileSync(join(bundle, "config.json"), "{}");
const runtime = join(dir, "runc");
Deno.writeTextFileSync(runtime, "#!/bin/sh\n");
Deno.chmodSync(runtime, 0o755);
const base = ["-c", "ctr1", "-u", "uuid1", "-r", runtime, "-b", bundle];

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
  assert.deepEqual(c.logDrivers, []);
  assert.equal(c.apiVersion, 0);
  assert.equal(c.timeout, 0);
  assert.equal(c.sync, false);
});

Deno.test("--opt=value, attached short values and grouped short booleans", () => {
  const c = config(["--cid=ctr1", "-uuuid1", `--runtime=${runtime}`, "-b", bundle, "-it", "-T5"]);
  assert.equal(c.cid, "ctr1");
  assert.equal(c.cuuid, "uuid1");
  assert.equal(c.stdin && c.terminal, true);
  assert.equal(c.timeout, 5);
});

Deno.test("log paths: bare path is k8s-file, passthrough and none, repeatable", () => {
  const c = config([...base, "-l", "rel.log", "-l", "passthrough", "--log-path", "none"]);
  assert.deepEqual(c.logDrivers, [
    { kind: "k8s-file", path: join(dir, "rel.log") },
    { kind: "passthrough" },
    { kind: "none" },
  ]);
});

Deno.test("flags podman and CRI-O pass that have no effect yet are accepted", () => {
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
  usageError(
    ["-c", "c", "-u", "u", "-r", join(dir, "nope"), "-b", bundle],
    /--runtime: .*nope is not an executable file/,
  );
  usageError(
    ["-c", "c", "-u", "u", "-r", join(bundle, "config.json"), "-b", bundle],
    /not an executable file/,
  );
  usageError(
    ["-c", "c", "-u", "u", "-r", "runc", "-b", bundle],
    /--runtime: 'runc' must be a path/,
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
  usageError([...base, "-l", "journald"], /journald driver is not supported/);
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

/**
 * The runtime's command lines against what conmon builds (main's
 * src/runtime_args.c, and 2.1.6's for exec's --tty), from the options
 * podman passes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCommandLine } from "../../src/cli/parse.ts";
import type { Config } from "../../src/cli/config.ts";
import { createArgv, execArgv, restoreArgv } from "../../src/runtime/runtime_args.ts";

const dir = Deno.makeTempDirSync();
const runtime = join(dir, "runc");
Deno.writeTextFileSync(runtime, "#!/bin/sh\n");
Deno.chmodSync(runtime, 0o755);
const B = join(dir, "bundle");
Deno.mkdirSync(B);
const P = join(dir, "pidfile");
const SPEC = join(dir, "process.json");
Deno.writeTextFileSync(SPEC, "{}");
const CKPT = join(dir, "checkpoint");
const SOCK = join(dir, "console.sock");

function config(...extra: string[]): Config {
  const args = ["-c", "ctr", "-u", "ctr", "-r", runtime, "-b", B, "-p", P, "-l", "none", ...extra];
  const r = parseCommandLine(args, dir);
  assert.equal(r.action, "monitor");
  return (r as { config: Config }).config;
}

Deno.test("create: conmon's argv, runtime opts before the console socket, the id last", () => {
  assert.deepEqual(createArgv(config()), [
    runtime,
    "create",
    "--bundle",
    B,
    "--pid-file",
    P,
    "ctr",
  ]);
  assert.deepEqual(
    createArgv(
      config(
        "-s",
        "--runtime-arg",
        "--root=/r",
        "--runtime-arg",
        "--log-format=json",
        "--no-pivot",
        "--no-new-keyring",
        "--runtime-opt",
        "--preserve-fds",
        "--runtime-opt",
        "2",
      ),
      SOCK,
    ),
    [
      runtime,
      "--systemd-cgroup",
      "--root=/r",
      "--log-format=json",
      "create",
      "--bundle",
      B,
      "--pid-file",
      P,
      "--no-pivot",
      "--no-new-keyring",
      "--preserve-fds",
      "2",
      "--console-socket",
      SOCK,
      "ctr",
    ],
  );
});

Deno.test("restore: `restore`, --detach --image-path --work-path after create's options, as conmon", () => {
  // podman 5: --restore CKPT with --runtime-opt --tcp-established/--tcp-close/--file-locks.
  const cfg = config(
    "--restore",
    CKPT,
    "-s",
    "--runtime-arg",
    "--root=/r",
    "--no-new-keyring",
    "--runtime-opt",
    "--tcp-established",
    "--runtime-opt",
    "--tcp-close",
    "--restore-arg",
    "--file-locks",
  );
  assert.deepEqual(restoreArgv(cfg), [
    runtime,
    "--systemd-cgroup",
    "--root=/r",
    "restore",
    "--bundle",
    B,
    "--pid-file",
    P,
    "--no-new-keyring",
    "--detach",
    "--image-path",
    CKPT,
    "--work-path",
    B,
    "--tcp-established",
    "--tcp-close",
    "--file-locks",
    "ctr",
  ]);
  assert.deepEqual(restoreArgv(config("--restore", "rel/ckpt", "--no-pivot", "-t"), SOCK), [
    runtime,
    "restore",
    "--bundle",
    B,
    "--pid-file",
    P,
    "--no-pivot",
    "--detach",
    "--image-path",
    join(dir, "rel/ckpt"),
    "--work-path",
    B,
    "--console-socket",
    SOCK,
    "ctr",
  ]);
  assert.throws(() => restoreArgv(config()), /no --restore/);
});

Deno.test("exec: no --systemd-cgroup, --tty with a terminal (as 2.1.6), opts then the socket", () => {
  const cfg = config(
    "-e",
    "--exec-process-spec",
    SPEC,
    "-s",
    "--runtime-arg",
    "--root=/r",
    "--runtime-opt",
    "--preserve-fds",
    "--runtime-opt",
    "1",
  );
  assert.deepEqual(execArgv(cfg, SOCK), [
    runtime,
    "--root=/r",
    "exec",
    "--pid-file",
    P,
    "--process",
    SPEC,
    "--detach",
    "--tty",
    "--preserve-fds",
    "1",
    "--console-socket",
    SOCK,
    "ctr",
  ]);
  assert.deepEqual(execArgv(config("-e", "--exec-process-spec", SPEC)), [
    runtime,
    "exec",
    "--pid-file",
    P,
    "--process",
    SPEC,
    "--detach",
    "ctr",
  ]);
});

Deno.test("ocimon's own --preserve-fds N goes before the runtime opts", () => {
  assert.deepEqual(createArgv(config("--preserve-fds", "3", "--runtime-opt", "--x")).slice(-4), [
    "--preserve-fds",
    "3",
    "--x",
    "ctr",
  ]);
});

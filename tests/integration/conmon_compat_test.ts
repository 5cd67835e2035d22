/**
 * Option checks where conmon defines the behaviour, each run through ocimon
 * and through conmon 2.1.6 (the control) with the same argv: same exit
 * status, and nothing run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { OCIMON_BIN, RUNTIME, tempDir } from "../support/env.ts";
import { makeBundle } from "../support/bundle.ts";

const CONMON = "/usr/bin/conmon";

async function monitor(bin: string, args: string[], env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command(bin, {
    args,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  // conmon prints option-parsing failures on stdout (g_print).
  return { code: out.code, stderr: dec.decode(out.stderr), stdout: dec.decode(out.stdout) };
}

/** An exec argv against a container that does not exist: the runtime would fail. */
function execArgs(d: string): string[] {
  const spec = join(d, "process.json");
  Deno.writeTextFileSync(spec, JSON.stringify({ args: ["true"], cwd: "/" }));
  return [
    "-c",
    "nosuchctr",
    "-u",
    "u1",
    "-r",
    RUNTIME,
    "-b",
    d,
    "-p",
    join(d, "pidfile"),
    "-l",
    `k8s-file:${join(d, "log")}`,
    "--exit-dir",
    d,
    "--sync",
  ]; // deno-fmt-ignore
}

const attachCases: [string, (d: string) => string[], Record<string, string>, RegExp][] = [
  [
    "--exec-attach without --exec",
    (d) => [...execArgs(d), "--exec-attach"],
    { _OCI_ATTACHPIPE: "2" },
    /--exec-attach can only be used with --exec/,
  ],
  [
    "--exec-attach on a legacy exec (no --api-version)",
    (d) => [...execArgs(d), "-e", "--exec-process-spec", join(d, "process.json"), "--exec-attach"],
    { _OCI_ATTACHPIPE: "2" },
    /non-legacy exec session/,
  ],
  [
    "--exec-attach without _OCI_ATTACHPIPE",
    (d) => [
      ...execArgs(d),
      "--api-version",
      "1",
      "-e",
      "--exec-process-spec",
      join(d, "process.json"),
      "--exec-attach",
    ],
    {},
    /_OCI_ATTACHPIPE/,
  ],
];

for (const [name, args, env, message] of attachCases) {
  Deno.test(`${name}: exit 1 before anything runs, as conmon`, async () => {
    const d = tempDir("compat");
    try {
      const ours = await monitor(OCIMON_BIN, args(d), env, d);
      assert.equal(ours.code, 1, ours.stderr);
      assert.match(ours.stderr, message);
      assert.equal(ours.stderr.trim().split("\n").length, 2, "one line and the --help hint");
      // Without --sync too: refused by the launcher, not after it returned 0.
      const launcher = await monitor(OCIMON_BIN, args(d).filter((a) => a !== "--sync"), env, d);
      assert.equal(launcher.code, 1, launcher.stderr);
      assert.deepEqual([...Deno.readDirSync(d)].map((e) => e.name), ["process.json"]);
      const theirs = await monitor(CONMON, args(d), env, d);
      assert.equal(theirs.code, 1, `conmon: ${theirs.stderr}`);
    } finally {
      Deno.removeSync(d, { recursive: true });
    }
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

/**
 * Bad input through the real binary: exit status 1, one message that names
 * the problem, and nothing created (no pidfile, no exit file, no log).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { OCIMON_BIN, RUNTIME } from "../support/env.ts";

async function ocimon(args: string[]) {
  const out = await new Deno.Command(OCIMON_BIN, { args, stdout: "piped", stderr: "piped" })
    .output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const cases: [string, (d: string) => string[], RegExp][] = [
  [
    "unknown flag",
    (d) => [...std(d), "--frobnicate"],
    /^ocimon: option parsing failed: Unknown option --frobnicate$/m,
  ],
  ["missing --cid", (d) => std(d).slice(2), /^ocimon: Container ID not provided. Use --cid$/m],
  [
    "malformed number",
    (d) => [...std(d), "--exit-delay", "soon"],
    /Cannot parse integer value “soon” for --exit-delay/,
  ],
  [
    "runtime not executable",
    (d) => [...std(d), "-r", join(d, "bundle", "config.json")],
    /^ocimon: Runtime path .*config.json is not valid: Permission denied$/m,
  ],
  [
    "seccomp notify",
    (d) => [...std(d), "--seccomp-notify-socket", join(d, "seccomp.sock")],
    /^ocimon: option --seccomp-notify-socket: seccomp notification is not supported/m,
  ],
  ["unsafe cid", (d) => [...std(d), "-c", "../evil"], /--cid: '..\/evil' is not a safe file name/],
  [
    "cgroup outside cgroupfs",
    (d) => [...std(d), "--cgroup", join(d, "cg")],
    /--cgroup: .* is not inside a mounted cgroup hierarchy/,
  ],
];

function std(d: string): string[] {
  return [
    "-c",
    "bad",
    "-u",
    "bad",
    "-r",
    RUNTIME,
    "-b",
    join(d, "bundle"),
    "-p",
    join(d, "pidfile"),
    "-P",
    join(d, "conmon.pid"),
    "--exit-dir",
    join(d, "exits"),
    "-0",
    join(d, "persist"),
    "-l",
    `k8s-file:${join(d, "ctr.log")}`,
    "--status-file",
    join(d, "status.json"),
  ];
}

for (const [what, args, message] of cases) {
  Deno.test(`bad input (${what}): exit 1, a clear message, nothing created`, async () => {
    const d = Deno.makeTempDirSync();
    Deno.mkdirSync(join(d, "bundle"));
    Deno.mkdirSync(join(d, "exits"));
    Deno.writeTextFileSync(join(d, "bundle", "config.json"), "{}");
    try {
      const r = await ocimon(args(d));
      assert.equal(r.code, 1);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 2, `one message and a hint: ${r.stderr}`);
      assert.deepEqual([...Deno.readDirSync(d)].map((e) => e.name).sort(), ["bundle", "exits"]);
      assert.deepEqual([...Deno.readDirSync(join(d, "exits"))], []);
      assert.deepEqual([...Deno.readDirSync(join(d, "bundle"))].map((e) => e.name), [
        "config.json",
      ]);
    } finally {
      Deno.removeSync(d, { recursive: true });
    }
  });
}

Deno.test("--help lists every option, none inert, the refused ones marked; --version names conmon", async () => {
  const h = await ocimon(["--help"]);
  assert.equal(h.code, 0);
  for (const opt of ["--cid", "--exit-command-arg", "--status-file", "--cgroup", "--syslog"]) {
    assert.match(h.stdout, new RegExp(opt));
  }
  assert.doesNotMatch(h.stdout, /no effect|inert|ignored/i);
  assert.match(h.stdout, /--no-sync-log .*ocimon never fsyncs them/);
  assert.match(h.stdout, /--seccomp-notify-socket .*\[refused/);
  assert.match(h.stdout, /--seccomp-notify-plugins .*\[refused/);
  assert.match(h.stdout, /--status-file .*\[ocimon\]/);
  const v = await ocimon(["--version"]);
  // podman parses the first line; it must read as conmon's.
  assert.match(
    v.stdout,
    /^conmon version 2\.1\.6\ncommit: ocimon-\d+\.\d+\.\d+\nocimon version \d+\.\d+\.\d+\n$/,
  );
});

import assert from "node:assert/strict";
import { closeQuietly, pipe, readSome } from "../../src/sys/fd.ts";
import { spawn } from "../../src/sys/spawn.ts";
import { tryWait } from "../../src/sys/process.ts";
import { listenPidPlan, strtolInt, withListenPid } from "../../src/runtime/listen_pid.ts";

Deno.test("listenPidPlan: conmon's rule (src/conmon.c)", () => {
  const monitor = 4242;
  assert.deepEqual(listenPidPlan(undefined, monitor, true), { action: "keep" });
  assert.deepEqual(listenPidPlan(undefined, monitor, false), { action: "keep" });
  // Someone else's: replaced only when asked to.
  assert.deepEqual(listenPidPlan("17", monitor, false), { action: "keep" });
  assert.deepEqual(listenPidPlan("17", monitor, true), { action: "replace" });
  // The monitor's own: replaced without the option.
  assert.deepEqual(listenPidPlan("4242", monitor, false), { action: "replace" });
  assert.deepEqual(listenPidPlan(" 4242xyz", monitor, false), { action: "replace" });
  // Not a positive number: the runtime never runs, whatever the option.
  for (const bad of ["", "abc", "0", "-5", "99999999999999999999"]) {
    for (const replace of [false, true]) {
      assert.deepEqual(
        listenPidPlan(bad, monitor, replace),
        { action: "refuse", message: `Invalid LISTEN_PID ${bad.slice(0, 10)}` },
        `${bad} ${replace}`,
      );
    }
  }
});

Deno.test("strtolInt: strtol(s, NULL, 10) into a C int", () => {
  assert.equal(strtolInt("123"), 123);
  assert.equal(strtolInt("\t+7z"), 7);
  assert.equal(strtolInt("-3"), -3);
  assert.equal(strtolInt("x"), 0);
  assert.equal(strtolInt("4294967297"), 1); // a long, cut to an int
  assert.equal(strtolInt("9223372036854775807"), -1);
  assert.equal(strtolInt("9223372036854775808"), undefined); // ERANGE
});

async function run(argv: string[], env: string[]): Promise<{ pid: number; out: string }> {
  const [r, w] = pipe();
  const pid = spawn({ path: argv[0], argv, env, fds: { 0: "null", 1: w, 2: w } });
  closeQuietly(w);
  for (;;) {
    if (tryWait(pid)) break;
    await new Promise((res) => setTimeout(res, 5));
  }
  const buf = new Uint8Array(65536);
  let out = "";
  for (let n; (n = readSome(r, buf)) > 0;) out += new TextDecoder().decode(buf.subarray(0, n));
  closeQuietly(r);
  return { pid, out };
}

Deno.test("withListenPid: the program runs as the process spawned, with LISTEN_PID its own pid", async () => {
  // The "runtime" prints its pid, its LISTEN_* and each argument on a line.
  const runtime = [
    "/bin/sh",
    "-c",
    'echo "$$ $LISTEN_PID $LISTEN_FDS"; printf "[%s]\\n" "$@"',
    "rt",
  ];
  const args = ["create", "--bundle", "/a b", "", "-x", "$HOME", "'q'", '"d"', "*"];
  const { pid, out } = await run(withListenPid([...runtime, ...args]), [
    "LISTEN_PID=1",
    "LISTEN_FDS=2",
    "HOME=/root",
  ]);
  const [first, ...rest] = out.trimEnd().split("\n");
  assert.equal(first, `${pid} ${pid} 2`, "its own pid, the one spawn returned");
  assert.deepEqual(rest, args.map((a) => `[${a}]`), "argv untouched");
});

Deno.test("withListenPid: exported even when LISTEN_PID was not set", async () => {
  const { pid, out } = await run(withListenPid(["/usr/bin/env"]), ["LISTEN_FDS=1"]);
  assert(out.split("\n").includes(`LISTEN_PID=${pid}`), out);
  assert(out.split("\n").includes("LISTEN_FDS=1"), out);
});

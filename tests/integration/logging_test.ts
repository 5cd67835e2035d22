/**
 * What the container writes, as it lands in the k8s-file log; and the exit
 * command that runs once the container is gone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { launchMonitor, readIfExists, waitFor } from "../support/harness.ts";

/** The content of a k8s-file log without timestamps: [stream, tag, text]. */
function records(log: string): [string, string, string][] {
  return log.split("\n").filter(Boolean).map((l) => {
    const m = /^\S+ (stdout|stderr) ([FP]) (.*)$/.exec(l);
    if (!m) throw new Error(`malformed log line: ${l}`);
    return [m[1], m[2], m[3]];
  });
}

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

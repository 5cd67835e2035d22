/**
 * `ocimon run BUNDLE`: one container in the foreground for a person at a
 * terminal, its output on ours, a summary at the end, its exit code ours.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeBundle, OOM_ARGS } from "../support/bundle.ts";
import { OCIMON_BIN, RUNTIME, tempDir } from "../support/env.ts";
import { run } from "../support/harness.ts";

Deno.test({
  name: "ocimon run: the output, the exit code and the summary",
  async fn() {
    const d = tempDir("run");
    try {
      const bundle = makeBundle(d, `run-${Deno.pid}`, {
        args: ["sh", "-c", "echo hello; echo oops >&2; exit 3"],
      });
      const status = join(d, "status.json");
      const r = await run([
        OCIMON_BIN,
        "run",
        bundle,
        "--runtime",
        RUNTIME,
        "--status-file",
        status,
      ]);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, "hello\n");
      assert.match(r.stderr, /^oops$/m);
      assert.match(
        r.stderr,
        /ocimon: container ocimon-run-\w+ exited with code 3\n {2}OOMKilled: false/,
      );
      assert.equal(JSON.parse(Deno.readTextFileSync(status)).exitCode, 3);
    } finally {
      Deno.removeSync(d, { recursive: true });
    }
  },
});

Deno.test({
  name: "ocimon run: an OOM kill's victim in the summary (main process, RSS, whose limit)",
  async fn() {
    const d = tempDir("runoom");
    try {
      const bundle = makeBundle(d, `runoom-${Deno.pid}`, {
        args: OOM_ARGS,
        memoryLimit: 16 * 1024 * 1024,
      });
      const r = await run([
        OCIMON_BIN,
        "run",
        bundle,
        "--runtime",
        RUNTIME,
        "--name",
        `runoom-${Deno.pid}`,
      ]);
      assert.equal(r.code, 137, r.stderr);
      assert.match(r.stderr, /OOMKilled: true \(1 kill\)/);
      assert.match(
        r.stderr,
        /\n {4}killed: sh \(pid \d+, main process, anon RSS [\d.]+ (MiB|KiB)\), limit of \/ocimon-test\/runoom-\d+\n/,
      );
      assert.match(r.stderr, /memory peak: [\d.]+ MiB, limit: 16\.0 MiB/);
    } finally {
      Deno.removeSync(d, { recursive: true });
    }
  },
});

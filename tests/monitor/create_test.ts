/**
 * The create phase with a recording runtime: --restore runs `runtime
 * restore` and the container is watched as after a create; under socket
 * activation the runtime sees LISTEN_PID as its own pid where conmon makes
 * it so, and an invalid LISTEN_PID fails the create in conmon's words.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { monitorContainer } from "../../src/monitor/mod.ts";
import { recordingRuntime } from "../support/recording_runtime.ts";

/** Runs `fn` with LISTEN_PID set to `value` (or unset), then puts it back. */
async function withListenPid<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = Deno.env.get("LISTEN_PID");
  if (value === undefined) Deno.env.delete("LISTEN_PID");
  else Deno.env.set("LISTEN_PID", value);
  try {
    return await fn();
  } finally {
    if (before === undefined) Deno.env.delete("LISTEN_PID");
    else Deno.env.set("LISTEN_PID", before);
  }
}

Deno.test("--restore: `runtime restore` from the checkpoint, then the container is watched to its exit", async () => {
  const f = recordingRuntime("short", ["--restore", "/ckpt", "--runtime-opt", "--tcp-close"]);
  try {
    const r = await monitorContainer(f.cfg);
    assert(r.ok, JSON.stringify(r));
    const [call] = f.calls();
    const bundle = join(f.dir, "bundle");
    assert.equal(
      call,
      `restore --bundle ${bundle} --pid-file ${join(f.dir, "pidfile")} --detach ` +
        `--image-path /ckpt --work-path ${bundle} --tcp-close cid1`,
    );
    assert.match(f.syncText(), /^\{"data": [1-9]\d*\}\n$/, "the restored pid on the sync pipe");
    assert.equal(Deno.readTextFileSync(join(f.dir, "cid1")), "0");
    assert(f.exitCommandRan());
  } finally {
    f.cleanup();
  }
});

Deno.test("--restore that fails: reported as a failed create, the runtime's words on the sync pipe", async () => {
  const f = recordingRuntime("fail", ["--restore", "/ckpt"]);
  try {
    const r = await monitorContainer(f.cfg);
    assert.deepEqual(r, { ok: false, message: "no such image\n" });
    assert.equal(f.syncText(), '{"data": -1, "message": "no such image\\n"}\n');
    assert.deepEqual(f.calls().map((c) => c.split(" ")[0]), ["restore"]);
  } finally {
    f.cleanup();
  }
});

Deno.test("--replace-listen-pid: the runtime sees LISTEN_PID as its own pid", async () => {
  const f = recordingRuntime("short", ["--replace-listen-pid"]);
  try {
    const r = await withListenPid("12345", () => monitorContainer(f.cfg));
    assert(r.ok, JSON.stringify(r));
    const [[pid, listen]] = f.pids();
    assert.equal(listen, String(pid));
  } finally {
    f.cleanup();
  }
});

Deno.test("LISTEN_PID the monitor's own pid is replaced without --replace-listen-pid; another is kept", async () => {
  for (const [value, replaced] of [[String(Deno.pid), true], ["12345", false]] as const) {
    const f = recordingRuntime("short");
    try {
      const r = await withListenPid(value, () => monitorContainer(f.cfg));
      assert(r.ok, JSON.stringify(r));
      const [[pid, listen]] = f.pids();
      assert.equal(listen, replaced ? String(pid) : value, `LISTEN_PID=${value}`);
    } finally {
      f.cleanup();
    }
  }
});

Deno.test("an invalid LISTEN_PID fails the create in conmon's words, and the runtime never runs", async () => {
  const f = recordingRuntime("short");
  try {
    const r = await withListenPid("bogus", () => monitorContainer(f.cfg));
    assert.deepEqual(r, { ok: false, message: "Invalid LISTEN_PID bogus" });
    assert.equal(f.syncText(), '{"data": -1, "message": "Invalid LISTEN_PID bogus"}\n');
    assert.deepEqual(f.calls(), []);
  } finally {
    f.cleanup();
  }
});

Deno.test("no LISTEN_PID: the runtime's environment has none", async () => {
  const f = recordingRuntime("short", ["--replace-listen-pid"]);
  try {
    const r = await withListenPid(undefined, () => monitorContainer(f.cfg));
    assert(r.ok, JSON.stringify(r));
    assert.equal(f.pids()[0][1], "unset");
  } finally {
    f.cleanup();
  }
});

/**
 * Each output sink fails alone: a sink that throws (a log on a full disk, a
 * broken terminal) loses its chunk, is counted and said once, and neither
 * reading nor the other sinks stop. The final drain takes what the pipe held
 * when it was called, and no more, however fast a writer refills it; all of
 * it, however slow the sink (within its time limit), and what a time limit
 * leaves unread is said.
 */
import assert from "node:assert/strict";
import { OutputRelay } from "../../src/io/container_io.ts";
import { closeQuietly, pipe, setNonBlocking, writeSome } from "../../src/sys/fd.ts";
import { Poller } from "../../src/sys/poller.ts";
import { addDiagSink } from "../../src/diag.ts";
import { sleep, waitFor } from "../support/harness.ts";

const said: string[] = [];
addDiagSink((m) => said.push(m));

Deno.test("output relay: a throwing sink drops its chunks alone, said once", async () => {
  const poller = new Poller();
  const [r, w] = pipe();
  const relay = new OutputRelay(poller, [{ fd: r, stream: "stdout" }]);
  let good = 0;
  relay.addSink(() => {
    throw new Error("No space left on device");
  }, "log 1");
  relay.addSink((_s, data) => (good += data.length), "attach");
  relay.start();
  const chunk = new Uint8Array(4096).fill(0x61);
  // Never block: the relay reads on this same thread. 4 KiB writes are atomic.
  setNonBlocking(w);
  for (let i = 0; i < 64; i++) {
    while (writeSome(w, chunk) === 0) await sleep(1);
  }
  closeQuietly(w);
  await waitFor(
    () => (good === 64 * 4096 ? true : undefined),
    5_000,
    "all output at the good sink",
  );
  relay.stop();
  poller.close();
  assert(relay.dropped()["log 1"] > 0);
  assert.equal(relay.dropped()["attach"], 0);
  const about = said.filter((m) => m.startsWith("log 1 failed"));
  assert.equal(about.length, 1, said.join("\n"));
  assert.match(about[0], /No space left on device/);
});

Deno.test("output relay: the final drain takes what the pipe held, not what follows", () => {
  const poller = new Poller();
  const [r, w] = pipe();
  setNonBlocking(w);
  const relay = new OutputRelay(poller, [{ fd: r, stream: "stdout" }]);
  let got = 0;
  const data = new Uint8Array(8192);
  // A writer that refills the pipe as fast as it is read.
  relay.addSink((_s, d) => {
    got += d.length;
    writeSome(w, data);
  }, "refilling");
  relay.start();
  let held = 0;
  for (let n; (n = writeSome(w, data)) > 0;) held += n;
  relay.drain();
  assert.equal(got, held);
  relay.stop();
  poller.close();
  closeQuietly(w);
});

/** Fills the pipe; returns the bytes it holds. */
function fill(w: number): number {
  const data = new Uint8Array(8192).fill(0x62);
  let held = 0;
  for (let n; (n = writeSome(w, data)) > 0;) held += n;
  return held;
}

/** A sink that takes `ms` of this thread per chunk, as a slow journal does. */
function slowSink(ms: number, count: { bytes: number }) {
  return (_s: string, d: Uint8Array) => {
    const end = performance.now() + ms;
    while (performance.now() < end) { /* busy: the drain runs on this thread */ }
    count.bytes += d.length;
  };
}

Deno.test("output relay: the final drain takes all the pipe held, however slow the sink", () => {
  const poller = new Poller();
  const [r, w] = pipe();
  setNonBlocking(w);
  const relay = new OutputRelay(poller, [{ fd: r, stream: "stdout" }]);
  const got = { bytes: 0 };
  // 64 KiB in 8 KiB reads at 80 ms each: 640 ms (a 500 ms limit once lost the tail).
  relay.addSink(slowSink(80, got), "slow");
  relay.start();
  const held = fill(w);
  relay.drain();
  assert.equal(got.bytes, held);
  relay.stop();
  poller.close();
  closeQuietly(w);
});

Deno.test("output relay: what a drain's time limit leaves unread is said when relaying stops", () => {
  const poller = new Poller();
  const [r, w] = pipe();
  setNonBlocking(w);
  const relay = new OutputRelay(poller, [{ fd: r, stream: "stderr" }]);
  const got = { bytes: 0 };
  relay.addSink(slowSink(40, got), "slow");
  relay.start();
  const held = fill(w);
  relay.drain(100);
  assert(got.bytes > 0 && got.bytes < held, `${got.bytes} of ${held}`);
  said.length = 0;
  relay.stop();
  poller.close();
  closeQuietly(w);
  assert.deepEqual(said, [
    `${held - got.bytes} bytes of the container's stderr left unread at the end`,
  ]);
});

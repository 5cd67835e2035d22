/**
 * Each output sink fails alone: a sink that throws (a log on a full disk, a
 * broken terminal) loses its chunk, is counted and said once, and neither
 * reading nor the other sinks stop. The final drain takes what the pipe held
 * when it was called, and no more, however fast a writer refills it.
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

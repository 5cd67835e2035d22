/**
 * When the journald driver sends, waits and drops (src/io/journald/delivery.ts),
 * against a sender that answers as libsystemd would: 0, -EINTR, -EAGAIN (a
 * send that timed out) or another negative errno.
 */
import assert from "node:assert/strict";
import {
  JournalDelivery,
  PATIENCE,
  QUEUE_MAX_BYTES,
  type Sender,
} from "../../../src/io/journald/delivery.ts";
import { MESSAGE_EQ } from "../../../src/io/journald/entry_fields.ts";
import { EAGAIN, EINTR } from "../../../src/sys/libc.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const ECONNREFUSED = 111;

/** Records each send; `answer` gives each send's result (the first send's too). */
class ScriptedSender implements Sender {
  sends: string[] = [];
  #last = "";
  constructor(readonly answer: (message: string) => number) {}
  sendMessage(message: Uint8Array): number {
    this.#last = dec.decode(message);
    return this.resend();
  }
  sendField(field: Uint8Array<ArrayBuffer>): number {
    return this.sendMessage(field.subarray(MESSAGE_EQ.length));
  }
  resend(): number {
    this.sends.push(this.#last);
    return this.answer(this.#last);
  }
  connect(field: Uint8Array<ArrayBuffer>): Promise<number> {
    const m = dec.decode(field.subarray(MESSAGE_EQ.length));
    this.sends.push(m);
    return Promise.resolve(this.answer(m));
  }
}

/** A delivery past its first send, and what it said. */
async function live(sender: Sender): Promise<{ d: JournalDelivery; said: string[] }> {
  const said: string[] = [];
  const d = new JournalDelivery(sender, (m) => said.push(m));
  d.entry(enc.encode("first\n"), 6, false);
  await d.settle();
  return { d, said };
}

Deno.test("a send interrupted by a signal is sent again; nothing is dropped", async () => {
  let interrupted = 0;
  const sender = new ScriptedSender((m) => m === "x\n" && interrupted++ < 3 ? -EINTR : 0);
  const { d, said } = await live(sender);
  d.entry(enc.encode("x\n"), 6, false);
  d.close();
  assert.deepEqual(sender.sends, ["first\n", "x\n", "x\n", "x\n", "x\n"]);
  assert.equal(d.dropped, 0);
  assert.deepEqual(said, []);
});

Deno.test("a journal that takes nothing for PATIENCE sends: entries dropped unsent, said once", async () => {
  let reading = true;
  const sender = new ScriptedSender(() => reading ? 0 : -EAGAIN);
  const { d, said } = await live(sender);
  reading = false;
  d.entry(enc.encode("a\n"), 6, false);
  assert.equal(sender.sends.length, 1 + PATIENCE, "waited PATIENCE sends");
  for (const m of ["b\n", "c\n", "d\n"]) d.entry(enc.encode(m), 6, false);
  assert.equal(sender.sends.length, 1 + PATIENCE, "no send while paused");
  assert.equal(d.dropped, 4);
  d.close();
  assert.deepEqual(said, [
    "journald: dropping log entries until the journal takes them again (the journal is not reading)",
    "journald: 4 log entries dropped in all",
  ]);
});

Deno.test("a journal that refuses costs each entry one send, and is said once until it takes again", async () => {
  let refusing = false;
  const sender = new ScriptedSender(() => refusing ? -ECONNREFUSED : 0);
  const { d, said } = await live(sender);
  refusing = true;
  d.entry(enc.encode("a\n"), 6, false);
  d.entry(enc.encode("b\n"), 6, false);
  refusing = false;
  d.entry(enc.encode("c\n"), 6, false);
  d.close();
  assert.deepEqual(sender.sends, ["first\n", "a\n", "b\n", "c\n"]);
  assert.equal(d.dropped, 2);
  assert.equal(said.length, 3);
  assert.match(said[0], /^journald: dropping log entries until .* \(Connection refused\)$/);
  assert.equal(said[1], "journald: the journal takes entries again; 2 dropped so far");
  assert.equal(said[2], "journald: 2 log entries dropped in all");
});

Deno.test("before the first send returns, entries wait, up to QUEUE_MAX_BYTES; then they are sent", async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => open = r);
  const sender = new ScriptedSender(() => 0);
  sender.connect = async (field) => {
    sender.sends.push(dec.decode(field.subarray(MESSAGE_EQ.length)));
    await gate;
    return 0;
  };
  const said: string[] = [];
  const d = new JournalDelivery(sender, (m) => said.push(m));
  const line = new Uint8Array(64 * 1024 - MESSAGE_EQ.length).fill(0x61);
  const fit = QUEUE_MAX_BYTES / (64 * 1024);
  for (let i = 0; i < fit + 2; i++) d.entry(line, 6, false);
  assert.equal(d.dropped, 2, "past the bound");
  assert.equal(sender.sends.length, 1, "only the first send, under way");
  open();
  await d.settle();
  assert.equal(sender.sends.length, fit);
  d.close();
  assert.equal(said.at(-1), "journald: 2 log entries dropped in all");
});

Deno.test("a first send that never returns: what waits is dropped at close, and said", () => {
  const sender = new ScriptedSender(() => 0);
  sender.connect = () => new Promise<number>(() => {});
  const said: string[] = [];
  const d = new JournalDelivery(sender, (m) => said.push(m));
  d.entry(enc.encode("a\n"), 6, false);
  d.entry(enc.encode("b\n"), 6, false);
  d.close();
  assert.equal(d.dropped, 2);
  assert.deepEqual(said, [
    "journald: dropping log entries until the journal takes them again (the journal did not take the first entry)",
    "journald: 2 log entries dropped in all",
  ]);
});

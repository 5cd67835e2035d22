/**
 * How the journald driver cuts output into entries and what fields each
 * entry has (conmon main's rules), without a journal: the splitter and the
 * field encoder are pure; and the order entries are sent in, to a client
 * that records them.
 */
import assert from "node:assert/strict";
import { JournaldLog } from "../../src/io/journald.ts";
import { JournalEntryFields } from "../../src/io/journald/entry_fields.ts";
import { JournalLineSplitter } from "../../src/io/journald/line_splitter.ts";
import type { JournalClient } from "../../src/sys/libsystemd.ts";
import { STDIO_BUF_SIZE, type Stream } from "../../src/io/stream.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Entry {
  message: string;
  priority: number;
  partial: boolean;
}

/** Feeds chunks (as reads of one stream) and returns the entries, optionally flushed. */
function cut(chunks: (string | Uint8Array)[], stream: Stream = "stdout", flush = false): Entry[] {
  const s = new JournalLineSplitter();
  const out: Entry[] = [];
  const emit = (m: Uint8Array, priority: number, partial: boolean) =>
    out.push({ message: dec.decode(m), priority, partial });
  for (const c of chunks) s.split(stream, typeof c === "string" ? enc.encode(c) : c, emit);
  if (flush) s.flush(stream, emit);
  return out;
}

Deno.test("one entry per line, the newline kept in MESSAGE; stdout 6, stderr 3", () => {
  assert.deepEqual(cut(["a\nbb\n"]), [
    { message: "a\n", priority: 6, partial: false },
    { message: "bb\n", priority: 6, partial: false },
  ]);
  assert.deepEqual(cut(["e\n"], "stderr"), [{ message: "e\n", priority: 3, partial: false }]);
  assert.deepEqual(cut(["\n"]), [{ message: "\n", priority: 6, partial: false }]);
});

Deno.test("the start of a line waits for its rest, across reads", () => {
  assert.deepEqual(cut(["no-new", "line", " rest\nnext"]), [
    { message: "no-newline rest\n", priority: 6, partial: false },
  ]);
  // What still waits at the end goes out partial.
  assert.deepEqual(cut(["tail"], "stdout", true), [
    { message: "tail", priority: 6, partial: true },
  ]);
  assert.deepEqual(cut(["x\n"], "stdout", true).length, 1, "nothing waits after a full line");
});

Deno.test("streams wait apart: stderr's partial line does not join stdout's", () => {
  const s = new JournalLineSplitter();
  const out: string[] = [];
  const emit = (m: Uint8Array, p: number) => out.push(`${p}:${dec.decode(m)}`);
  s.split("stdout", enc.encode("out-"), emit);
  s.split("stderr", enc.encode("err-"), emit);
  s.split("stderr", enc.encode("end\n"), emit);
  s.split("stdout", enc.encode("end\n"), emit);
  assert.deepEqual(out, ["3:err-end\n", "6:out-end\n"]);
});

Deno.test("a line longer than a read goes out in read-size pieces marked partial", () => {
  const line = "a".repeat(20000);
  // Reads of 8192 bytes, as the relay does.
  const data = enc.encode(line + "\n");
  const reads = [];
  for (let i = 0; i < data.length; i += STDIO_BUF_SIZE) {
    reads.push(data.subarray(i, i + STDIO_BUF_SIZE));
  }
  const entries = cut(reads);
  assert.deepEqual(entries.map((e) => [e.message.length, e.partial]), [
    [8192, true],
    [8192, true],
    [20001 - 16384, false],
  ]);
  assert.equal(entries.map((e) => e.message).join(""), line + "\n");
});

Deno.test("a waiting start joins the next read until the pair would pass one read", () => {
  const a = "a".repeat(5000);
  const b = "b".repeat(5000);
  // 5000 waits; 5000 more has no newline and does not fit beside it: out together, partial.
  const entries = cut([a, b]);
  assert.deepEqual(entries, [{ message: a + b, priority: 6, partial: true }]);
  // With a newline the joined line is complete.
  assert.deepEqual(cut([a, b + "\n"]), [{ message: a + b + "\n", priority: 6, partial: false }]);
});

Deno.test("a <N> prefix at the start of a line sets PRIORITY and is cut off", () => {
  assert.deepEqual(cut(["<4>warn\n<7>dbg\n<8>not\n<3\nx<2>y\n"]), [
    { message: "warn\n", priority: 4, partial: false },
    { message: "dbg\n", priority: 7, partial: false },
    { message: "<8>not\n", priority: 6, partial: false },
    { message: "<3\n", priority: 6, partial: false },
    { message: "x<2>y\n", priority: 6, partial: false },
  ]);
  // Only at the start of a line: a prefix in a line's waiting start is text.
  assert.deepEqual(cut(["<1>", "more\n"]), [{ message: "<1>more\n", priority: 6, partial: false }]);
});

Deno.test("binary output passes byte for byte", () => {
  const bytes = new Uint8Array([0, 1, 2, 0xff, 0xfe, 0x1b, 0x5b, 0x0a]);
  const s = new JournalLineSplitter();
  const got: Uint8Array[] = [];
  s.split("stdout", bytes, (m) => got.push(m.slice()));
  assert.deepEqual(got, [bytes]);
});

const text = (fields: Uint8Array[]) => fields.map((f) => dec.decode(f));

Deno.test("entry fields in conmon's order: id, priority, short id, tag, name, identifier", () => {
  const cid = "0123456789abcdef0123456789abcdef";
  const f = new JournalEntryFields({
    cid,
    name: "web",
    tag: "mytag",
    labels: ["A=1", "COLOR=blue"],
    noPartialFlag: false,
  });
  assert.deepEqual(text(f.rest(6, false)), [
    `CONTAINER_ID_FULL=${cid}`,
    "PRIORITY=6",
    "CONTAINER_ID=0123456789ab",
    "CONTAINER_TAG=mytag",
    "CONTAINER_NAME=web",
    "SYSLOG_IDENTIFIER=mytag",
    "A=1",
    "COLOR=blue",
  ]);
  assert.deepEqual(text(f.rest(3, true)).slice(5, 7), [
    "SYSLOG_IDENTIFIER=mytag",
    "CONTAINER_PARTIAL_MESSAGE=true",
  ]);
});

Deno.test("SYSLOG_IDENTIFIER: the tag, else the name, else the short id; partial flag optional", () => {
  const cid = "fedcba9876543210fedcba";
  const named = new JournalEntryFields({ cid, name: "db", labels: [], noPartialFlag: false });
  assert.deepEqual(text(named.rest(6, false)).slice(3), [
    "CONTAINER_NAME=db",
    "SYSLOG_IDENTIFIER=db",
  ]);
  const bare = new JournalEntryFields({ cid, labels: [], noPartialFlag: true });
  assert.deepEqual(text(bare.rest(3, true)), [
    `CONTAINER_ID_FULL=${cid}`,
    "PRIORITY=3",
    "CONTAINER_ID=fedcba987654",
    "SYSLOG_IDENTIFIER=fedcba987654",
  ]);
});

/**
 * A journal client that records what it is sent. Its first send (connect)
 * finishes when `open()` is called, and output arrives in that same turn,
 * before the driver's callback runs: as when a poll wake-up and the first
 * send's completion resolve together.
 */
class RecordingJournal {
  sent: string[] = [];
  ready = false;
  #open!: () => void;
  #gate = new Promise<void>((r) => this.#open = r);
  constructor(readonly inBetween: () => void) {}
  open(): void {
    this.#open();
  }
  async connect(iov: BigUint64Array, _n: number): Promise<number> {
    this.sent.push(messageAt(iov[0], iov[1]));
    await this.#gate;
    this.ready = true;
    queueMicrotask(this.inBetween);
    return 0;
  }
  sendv(iov: Deno.PointerValue, _n: number): number {
    const view = new Deno.UnsafePointerView(iov!);
    this.sent.push(messageAt(view.getBigUint64(0), view.getBigUint64(8)));
    return 0;
  }
}

function messageAt(ptr: bigint, len: bigint): string {
  const p = Deno.UnsafePointer.create(ptr)!;
  const field = dec.decode(Deno.UnsafePointerView.getArrayBuffer(p, Number(len)));
  assert(field.startsWith("MESSAGE="), field);
  return field.slice("MESSAGE=".length);
}

Deno.test("entries reach the journal in order when output arrives as the first send completes", async () => {
  const journal = new RecordingJournal(() => log.write("stdout", enc.encode("4\n")));
  const log = new JournaldLog(
    { cid: "c".repeat(64), labels: [], noPartialFlag: false },
    () => {},
    journal as unknown as JournalClient,
  );
  log.write("stdout", enc.encode("1\n2\n"));
  log.write("stdout", enc.encode("3\n"));
  journal.open();
  await log.settle();
  log.write("stdout", enc.encode("5\n"));
  log.close();
  assert.deepEqual(journal.sent, ["1\n", "2\n", "3\n", "4\n", "5\n"]);
  assert.equal(log.dropped, 0);
});

/**
 * The journald log driver: each line of container output becomes one entry
 * in the systemd journal, sent with libsystemd's sd_journal_sendv(3), with
 * conmon's fields:
 *
 *     MESSAGE=<the line, newline included>   CONTAINER_ID_FULL=<cid>
 *     PRIORITY=6 (stdout) or 3 (stderr)      CONTAINER_ID=<first 12 of cid>
 *     CONTAINER_TAG=<--log-tag>              CONTAINER_NAME=<--name>
 *     SYSLOG_IDENTIFIER=<tag, else name, else short id>
 *     CONTAINER_PARTIAL_MESSAGE=true         (a piece of a longer line)
 *     KEY=VALUE                              (each --log-label)
 *
 * Lines are cut as conmon main cuts them: the start of a line that has no
 * newline yet waits (per stream, up to one read of 8192 bytes) for the
 * rest; a line that outgrows that is sent in pieces marked partial; what
 * still waits when the container is gone is sent, partial, at close. A line
 * that starts with a syslog priority prefix "<N>" (N 0-7) is logged at that
 * priority, without the prefix (conmon main; 2.1.x logs the prefix as text).
 *
 * The journal never stalls the container for long. A slow journal is waited
 * for, as conmon does, but each send waits at most SEND_TIMEOUT_MS (twice, inside
 * libsystemd: src/sys/libsystemd.ts), and a journal that took nothing for
 * PATIENCE sends counts as not reading (journald frozen): then entries are
 * dropped unsent for DROP_PAUSE_MS, counted and said once, and one send
 * tells whether it reads again. A journal that refuses (journald stopped:
 * its socket left with nobody reading) costs each entry one failed send.
 * conmon blocks on a journal that does not read, for as long as it lasts.
 *
 * @module
 */
import { STDIO_BUF_SIZE, type Stream } from "./stream.ts";
import { JournalClient } from "../sys/libsystemd.ts";
import { EAGAIN, EINTR, strerror } from "../sys/libc.ts";

/** What the entries say about the container (from the command line). */
export interface JournalFields {
  cid: string;
  name?: string;
  tag?: string;
  /** "KEY=VALUE" each, validated by the command line. */
  labels: readonly string[];
  /** --no-container-partial-message */
  noPartialFlag: boolean;
}

const NL = 0x0a;
const SHORT_ID = 12;
const PRIORITY_STDOUT = 6;
const PRIORITY_STDERR = 3;
const encoder = new TextEncoder();
const MESSAGE_EQ = encoder.encode("MESSAGE=");

/** One entry to be: the message bytes (a view, valid during the call only). */
export type EmitEntry = (message: Uint8Array, priority: number, partial: boolean) => void;

/**
 * Cuts container output into journal entries as conmon main does; pure
 * (no journal), so that the cutting can be tested on its own.
 */
export class JournalLineSplitter {
  #held: Record<Stream, Uint8Array> = {
    stdout: new Uint8Array(STDIO_BUF_SIZE),
    stderr: new Uint8Array(STDIO_BUF_SIZE),
  };
  #heldLen: Record<Stream, number> = { stdout: 0, stderr: 0 };
  #joined = new Uint8Array(2 * STDIO_BUF_SIZE);

  /** Cuts one chunk; `emit` is called for each entry it completes. */
  split(stream: Stream, chunk: Uint8Array, emit: EmitEntry): void {
    if (chunk.length > 0) this.#cut(stream, chunk, emit);
  }

  /** Sends what still waits for the rest of its line, as a partial entry. */
  flush(stream: Stream, emit: EmitEntry): void {
    const n = this.#heldLen[stream];
    if (n === 0) return;
    this.#heldLen[stream] = 0;
    emit(this.#held[stream].subarray(0, n), defaultPriority(stream), true);
  }

  #cut(stream: Stream, chunk: Uint8Array, emit: EmitEntry): void {
    const held = this.#held[stream];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const partial = nl < 0;
      const end = partial ? chunk.length : nl + 1;
      const heldLen = this.#heldLen[stream];
      if (partial && end - start < STDIO_BUF_SIZE - heldLen) {
        held.set(chunk.subarray(start, end), heldLen);
        this.#heldLen[stream] = heldLen + end - start;
        return;
      }
      let priority = defaultPriority(stream);
      let from = start;
      if (heldLen === 0) {
        const p = priorityPrefix(chunk, start, end);
        if (p >= 0) {
          priority = p;
          from += 3;
        }
      }
      let message: Uint8Array;
      if (heldLen === 0) {
        message = chunk.subarray(from, end);
      } else {
        const size = heldLen + end - from;
        if (this.#joined.length < size) this.#joined = new Uint8Array(size);
        this.#joined.set(held.subarray(0, heldLen));
        this.#joined.set(chunk.subarray(from, end), heldLen);
        message = this.#joined.subarray(0, size);
        this.#heldLen[stream] = 0;
      }
      emit(message, priority, partial);
      start = end;
    }
  }
}

function defaultPriority(stream: Stream): number {
  return stream === "stderr" ? PRIORITY_STDERR : PRIORITY_STDOUT;
}

/** The priority of a line that starts "<N>" (N 0-7), or -1. */
function priorityPrefix(b: Uint8Array, start: number, end: number): number {
  if (end - start < 3 || b[start] !== 0x3c || b[start + 2] !== 0x3e) return -1;
  const d = b[start + 1] - 0x30;
  return d >= 0 && d <= 7 ? d : -1;
}

/**
 * The fields of an entry other than MESSAGE, encoded once: all but PRIORITY
 * and the partial flag are the same for every entry of a container.
 */
export class JournalEntryFields {
  readonly idFull: Uint8Array<ArrayBuffer>;
  readonly id: Uint8Array<ArrayBuffer>;
  readonly tag?: Uint8Array<ArrayBuffer>;
  readonly name?: Uint8Array<ArrayBuffer>;
  readonly identifier: Uint8Array<ArrayBuffer>;
  readonly partialFlag?: Uint8Array<ArrayBuffer>;
  readonly labels: Uint8Array<ArrayBuffer>[];
  readonly priorities: Uint8Array<ArrayBuffer>[];

  constructor(f: JournalFields) {
    const short = f.cid.slice(0, SHORT_ID);
    this.idFull = encoder.encode(`CONTAINER_ID_FULL=${f.cid}`);
    this.id = encoder.encode(`CONTAINER_ID=${short}`);
    if (f.tag !== undefined) this.tag = encoder.encode(`CONTAINER_TAG=${f.tag}`);
    if (f.name !== undefined) this.name = encoder.encode(`CONTAINER_NAME=${f.name}`);
    // As conmon: the tag, else the name, else the short id.
    this.identifier = encoder.encode(`SYSLOG_IDENTIFIER=${f.tag ?? f.name ?? short}`);
    if (!f.noPartialFlag) this.partialFlag = encoder.encode("CONTAINER_PARTIAL_MESSAGE=true");
    this.labels = f.labels.map((l) => encoder.encode(l));
    this.priorities = [0, 1, 2, 3, 4, 5, 6, 7].map((p) => encoder.encode(`PRIORITY=${p}`));
  }

  /** The fields after MESSAGE, in conmon's order. */
  rest(priority: number, partial: boolean): Uint8Array<ArrayBuffer>[] {
    const out = [this.idFull, this.priorities[priority], this.id];
    if (this.tag) out.push(this.tag);
    if (this.name) out.push(this.name);
    out.push(this.identifier);
    if (partial && this.partialFlag) out.push(this.partialFlag);
    out.push(...this.labels);
    return out;
  }
}

/** An entry that waits for the journal: its MESSAGE field is a copy. */
interface Waiting {
  message: Uint8Array<ArrayBuffer>;
  priority: number;
  partial: boolean;
}

/** Entries waiting for the first send to finish, at most. */
export const QUEUE_MAX_BYTES = 4 * 1024 * 1024;
/**
 * Sends of one entry before the journal counts as not reading: each waits
 * up to twice SEND_TIMEOUT_MS (libsystemd tries a second way), so 10 s: on a
 * loaded machine (load 12 on 2 cores) a limit of 2 s lost entries of a
 * healthy journald starved of CPU, which is slow, not frozen.
 */
const PATIENCE = 10;
/** Once the journal counts as not reading, entries are dropped unsent for this long. */
export const DROP_PAUSE_MS = 5000;

/** The sink: container output to the journal. */
export class JournaldLog {
  #splitter = new JournalLineSplitter();
  #fields: JournalEntryFields;
  #client: JournalClient;
  #say: (message: string) => void;
  /**
   * One iovec array per (priority, partial): the fixed fields' slots are
   * filled once, so a send writes only MESSAGE's pointer and length (the
   * monitor may run without V8's optimizing tiers: per-entry work counts).
   */
  #iovs: (BigUint64Array<ArrayBuffer> | undefined)[] = [];
  /** The same arrays as 32-bit words: MESSAGE's length is set without a BigInt. */
  #words: Uint32Array[] = [];
  #iovPointers: Deno.PointerValue[] = [];
  #counts: number[] = [];
  #message = withPrefix(new Uint8Array(MESSAGE_EQ.length + 2 * STDIO_BUF_SIZE));
  #messagePtr = pointer(this.#message);
  /** Entries that came while the first send was under way. */
  #queue: Waiting[] = [];
  /**
   * True once the first send has finished and the queue behind it is sent:
   * only then do entries go straight to the journal. The client is ready a
   * moment earlier (before the promise's callback runs), and output read in
   * between (a poll wake-up resolved in the same turn) would overtake the
   * queue.
   */
  #live = false;
  #queued = 0;
  #connecting?: Promise<void>;
  #dropped = 0;
  #dropReason = "";
  #pausedUntil = 0;
  #emit: EmitEntry = (m, p, partial) => this.#entry(m, p, partial);

  constructor(
    fields: JournalFields,
    say: (message: string) => void,
    client: JournalClient = JournalClient.open(),
  ) {
    this.#fields = new JournalEntryFields(fields);
    this.#client = client;
    this.#say = say;
  }

  /** The iovec array for entries of this priority and partialness (slots 0, 1: MESSAGE). */
  #iovFor(priority: number, partial: boolean): BigUint64Array<ArrayBuffer> {
    const k = 2 * priority + (partial ? 1 : 0);
    const ready = this.#iovs[k];
    if (ready) return ready;
    const rest = this.#fields.rest(priority, partial);
    const iov = new BigUint64Array(2 * (rest.length + 1));
    rest.forEach((f, i) => {
      iov[2 * i + 2] = pointer(f);
      iov[2 * i + 3] = BigInt(f.length);
    });
    this.#iovs[k] = iov;
    this.#words[k] = new Uint32Array(iov.buffer);
    this.#iovPointers[k] = Deno.UnsafePointer.of(iov);
    this.#counts[k] = rest.length + 1;
    return iov;
  }

  write(stream: Stream, chunk: Uint8Array): void {
    this.#splitter.split(stream, chunk, this.#emit);
  }

  /** Entries dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  #entry(message: Uint8Array, priority: number, partial: boolean): void {
    if (!this.#live) return this.#enqueue(message, priority, partial);
    const size = MESSAGE_EQ.length + message.length;
    if (this.#message.length < size) {
      this.#message = new Uint8Array(size);
      this.#message.set(MESSAGE_EQ);
      this.#messagePtr = pointer(this.#message);
    }
    this.#message.set(message, MESSAGE_EQ.length);
    this.#deliver(this.#messagePtr, size, priority, partial);
  }

  /**
   * Sends one entry, waiting for a slow journal as conmon does, but at most
   * PATIENCE sends long; a journal that took nothing for that long is not
   * reading: entries are dropped unsent for DROP_PAUSE_MS, then one send
   * (one wait) tells whether it reads again.
   */
  #deliver(message: bigint, size: number, priority: number, partial: boolean): void {
    let tries = PATIENCE;
    if (this.#pausedUntil > 0) {
      if (Date.now() < this.#pausedUntil) return this.#drop(this.#dropReason);
      this.#pausedUntil = 0;
      tries = 1;
    }
    const iov = this.#iovFor(priority, partial);
    const k = 2 * priority + (partial ? 1 : 0);
    const n = this.#counts[k];
    iov[0] = message;
    iov[1] = 0n;
    this.#words[k][2] = size; // little-endian: the low word of iov[1]
    const at = this.#iovPointers[k];
    let r = this.#client.sendv(at, n);
    // A signal (SIGCHLD at the container's exit) interrupts a waiting send:
    // send again. conmon never sees EINTR (it takes signals through a signalfd).
    for (let i = 0; i < 100 && (r === -EINTR || (r === -EAGAIN && --tries > 0)); i++) {
      r = this.#client.sendv(at, n);
    }
    this.#result(r);
  }

  /** Accounts for a send's result. */
  #result(r: number): void {
    if (r === -EAGAIN) {
      this.#pausedUntil = Date.now() + DROP_PAUSE_MS;
      return this.#drop("the journal is not reading");
    }
    if (r < 0) return this.#drop(strerror(-r));
    this.#resumed();
  }

  #enqueue(message: Uint8Array, priority: number, partial: boolean): void {
    const size = MESSAGE_EQ.length + message.length;
    if (this.#queued + size > QUEUE_MAX_BYTES) {
      return this.#drop("the journal has not taken the first entry yet");
    }
    const copy = new Uint8Array(size);
    copy.set(MESSAGE_EQ);
    copy.set(message, MESSAGE_EQ.length);
    this.#queue.push({ message: copy, priority, partial });
    this.#queued += size;
    if (!this.#connecting) this.#connect();
  }

  /** The first send, off the main thread; then what queued meanwhile. */
  #connect(): void {
    const first = this.#queue[0];
    // A copy: the array stays untouched while the worker thread reads it.
    const iov = this.#iovFor(first.priority, first.partial).slice();
    const n = this.#counts[2 * first.priority + (first.partial ? 1 : 0)];
    iov[0] = pointer(first.message);
    iov[1] = BigInt(first.message.length);
    this.#connecting = this.#client.connect(iov, n).then((r) => {
      this.#queue.shift();
      this.#queued -= first.message.length;
      if (r === -EINTR || r === -EAGAIN) {
        this.#deliver(pointer(first.message), first.message.length, first.priority, first.partial);
      } else this.#result(r);
      this.#offerQueue();
      this.#live = true;
    }, (err) => {
      this.#say(`journald: cannot send to the journal: ${err}`);
    });
  }

  /** Sends the queued entries in order (after the first send). */
  #offerQueue(): void {
    const queue = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    for (const e of queue) {
      this.#deliver(pointer(e.message), e.message.length, e.priority, e.partial);
    }
  }

  #drop(reason: string): void {
    if (this.#dropReason === "" || reason !== this.#dropReason) {
      this.#say(`journald: dropping log entries until the journal takes them again (${reason})`);
      this.#dropReason = reason;
    }
    this.#dropped++;
  }

  #resumed(): void {
    if (this.#dropReason === "") return;
    this.#say(`journald: the journal takes entries again; ${this.#dropped} dropped so far`);
    this.#dropReason = "";
  }

  /**
   * Waits (at most `ms`) for a first send still under way, so that close()
   * finds the queue sent.
   */
  async settle(ms = 1000): Promise<void> {
    if (!this.#connecting || this.#live) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#connecting, new Promise((r) => timer = setTimeout(r, ms))]);
    clearTimeout(timer);
  }

  /** Sends what still waits for the rest of its line; reports drops. */
  close(): void {
    this.#splitter.flush("stdout", this.#emit);
    this.#splitter.flush("stderr", this.#emit);
    if (!this.#live && this.#queue.length > 0) {
      // The first send never came back: the journal is not reading at all.
      for (const _ of this.#queue) this.#drop("the journal did not take the first entry");
      this.#queue = [];
      this.#queued = 0;
    }
    if (this.#dropped > 0) this.#say(`journald: ${this.#dropped} log entries dropped in all`);
  }
}

function withPrefix(b: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  b.set(MESSAGE_EQ);
  return b;
}

function pointer(b: Uint8Array<ArrayBuffer>): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

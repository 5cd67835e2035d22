/**
 * When the journald driver sends, waits or drops. The journal never stalls
 * the container for long. A slow journal is waited for, as conmon does, but
 * each send waits at most SEND_TIMEOUT_MS (twice, inside libsystemd:
 * src/sys/libsystemd.ts), and a journal that took nothing for PATIENCE
 * sends counts as not reading (journald frozen): then entries are dropped
 * unsent for DROP_PAUSE_MS, counted and said once, and one send tells
 * whether it reads again. A journal that refuses (journald stopped: its
 * socket left with nobody reading) costs each entry one failed send.
 * conmon blocks on a journal that does not read, for as long as it lasts.
 *
 * The first send runs off the main thread (it opens libsystemd's socket);
 * entries that come meanwhile wait in a queue of at most QUEUE_MAX_BYTES,
 * and go out, in order, after it.
 *
 * @module
 */
import { EAGAIN, EINTR, strerror } from "../../sys/libc.ts";
import { MESSAGE_EQ, messageField } from "./entry_fields.ts";
import { after, type Timer } from "../../util/timer.ts";

/** How entries reach the journal (entry_sender.ts): each send is 0, or a negative errno. */
export interface Sender {
  /** Sends an entry once (`message` is copied). */
  sendMessage(message: Uint8Array, priority: number, partial: boolean): number;
  /** Sends an entry once, its MESSAGE field given (entry_fields.ts messageField). */
  sendField(field: Uint8Array<ArrayBuffer>, priority: number, partial: boolean): number;
  /** Sends the last entry again. */
  resend(): number;
  /** The first send: `field` stays untouched until it settles. */
  connect(field: Uint8Array<ArrayBuffer>, priority: number, partial: boolean): Promise<number>;
}

/** An entry that waits for the first send to finish: its MESSAGE field is a copy. */
interface Waiting {
  field: Uint8Array<ArrayBuffer>;
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
export const PATIENCE = 10;
/** Once the journal counts as not reading, entries are dropped unsent for this long. */
export const DROP_PAUSE_MS = 5000;

export class JournalDelivery {
  #sender: Sender;
  #say: (message: string) => void;
  /** Entries that came while the first send was under way. */
  #queue: Waiting[] = [];
  #queued = 0;
  /**
   * True once the first send has finished and the queue behind it is sent:
   * only then do entries go straight to the journal. The client is ready a
   * moment earlier (before the promise's callback runs), and output read in
   * between (a poll wake-up resolved in the same turn) would overtake the
   * queue.
   */
  #live = false;
  #connecting?: Promise<void>;
  #dropped = 0;
  #dropReason = "";
  #pausedUntil = 0;

  constructor(sender: Sender, say: (message: string) => void) {
    this.#sender = sender;
    this.#say = say;
  }

  /** Entries dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** One entry (`message` is a view, valid during the call only). */
  entry(message: Uint8Array, priority: number, partial: boolean): void {
    if (!this.#live) return this.#enqueue(message, priority, partial);
    let tries = PATIENCE;
    if (this.#pausedUntil > 0 && (tries = this.#afterPause()) === 0) return;
    this.#finish(this.#sender.sendMessage(message, priority, partial), tries);
  }

  /**
   * Waits (at most `ms`) for a first send still under way, so that close()
   * finds the queue sent.
   */
  async settle(ms = 1000): Promise<void> {
    if (!this.#connecting || this.#live) return;
    let timer: Timer | undefined;
    await Promise.race([this.#connecting, new Promise<void>((r) => timer = after(ms, r))]);
    timer?.cancel();
  }

  /** The end: what never got sent is dropped; drops are said in all. */
  close(): void {
    if (!this.#live && this.#queue.length > 0) {
      // The first send never came back: the journal is not reading at all.
      for (const _ of this.#queue) this.#drop("the journal did not take the first entry");
      this.#queue = [];
      this.#queued = 0;
    }
    if (this.#dropped > 0) this.#say(`journald: ${this.#dropped} log entries dropped in all`);
  }

  /**
   * While the journal counts as not reading: 0, the entry dropped unsent;
   * once the pause is over, 1: one send tells whether it reads again.
   */
  #afterPause(): number {
    if (Date.now() < this.#pausedUntil) {
      this.#drop(this.#dropReason);
      return 0;
    }
    this.#pausedUntil = 0;
    return 1;
  }

  /**
   * After an entry's first send (result `r`): sends it again while the
   * journal is slow, `tries` sends in all at most, and accounts for the end.
   */
  #finish(r: number, tries: number): void {
    // A signal (SIGCHLD at the container's exit) interrupts a waiting send:
    // send again. conmon never sees EINTR (it takes signals through a signalfd).
    for (let i = 0; i < 100 && (r === -EINTR || (r === -EAGAIN && --tries > 0)); i++) {
      r = this.#sender.resend();
    }
    this.#result(r);
  }

  #sendWaiting(e: Waiting): void {
    let tries = PATIENCE;
    if (this.#pausedUntil > 0 && (tries = this.#afterPause()) === 0) return;
    this.#finish(this.#sender.sendField(e.field, e.priority, e.partial), tries);
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
    if (this.#queued + MESSAGE_EQ.length + message.length > QUEUE_MAX_BYTES) {
      return this.#drop("the journal has not taken the first entry yet");
    }
    const field = messageField(message);
    this.#queue.push({ field, priority, partial });
    this.#queued += field.length;
    if (!this.#connecting) this.#connect();
  }

  /** The first send, off the main thread; then what queued meanwhile. */
  #connect(): void {
    const first = this.#queue[0];
    this.#connecting = this.#sender.connect(first.field, first.priority, first.partial).then(
      (r) => {
        this.#queue.shift();
        this.#queued -= first.field.length;
        if (r === -EINTR || r === -EAGAIN) this.#sendWaiting(first);
        else this.#result(r);
        this.#offerQueue();
        this.#live = true;
      },
      (err) => {
        this.#say(`journald: cannot send to the journal: ${err}`);
      },
    );
  }

  /** Sends the queued entries in order (after the first send). */
  #offerQueue(): void {
    const queue = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    for (const e of queue) this.#sendWaiting(e);
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
}

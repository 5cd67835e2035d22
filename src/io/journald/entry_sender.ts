/**
 * Entries as libsystemd's sd_journal_sendv(3) takes them (src/sys/libsystemd.ts):
 * an iovec array of the fields, given by pointer. One array is made per
 * (priority, partial), its fixed fields' slots filled once, so that a send
 * writes only MESSAGE's pointer and length: the monitor may run without
 * V8's optimizing tiers, and per-entry work counts.
 *
 * An entry is sent once, then again with resend() if need be; what to do
 * with each result is the caller's choice (delivery.ts).
 *
 * @module
 */
import type { JournalClient } from "../../sys/libsystemd.ts";
import { STDIO_BUF_SIZE } from "../stream.ts";
import { type JournalEntryFields, MESSAGE_EQ } from "./entry_fields.ts";

export class EntrySender {
  #fields: JournalEntryFields;
  #client: JournalClient;
  #iovs: (BigUint64Array<ArrayBuffer> | undefined)[] = [];
  /** The same arrays as 32-bit words: MESSAGE's length is set without a BigInt. */
  #words: Uint32Array[] = [];
  #iovPointers: Deno.PointerValue[] = [];
  #counts: number[] = [];
  /** The MESSAGE field of sendMessage(), reused: "MESSAGE=" and the message bytes. */
  #message = withPrefix(new Uint8Array(MESSAGE_EQ.length + 2 * STDIO_BUF_SIZE));
  #messagePtr = pointer(this.#message);
  /** The array of the entry last sent. */
  #last = 0;

  constructor(fields: JournalEntryFields, client: JournalClient) {
    this.#fields = fields;
    this.#client = client;
  }

  /**
   * Sends an entry of `message` (copied: the view may go once this returns)
   * once: 0, or a negative errno.
   */
  sendMessage(message: Uint8Array, priority: number, partial: boolean): number {
    const size = MESSAGE_EQ.length + message.length;
    if (this.#message.length < size) {
      this.#message = withPrefix(new Uint8Array(size));
      this.#messagePtr = pointer(this.#message);
    }
    this.#message.set(message, MESSAGE_EQ.length);
    return this.#send(this.#messagePtr, size, priority, partial);
  }

  /** Sends an entry of a MESSAGE field of its own (entry_fields.ts messageField), the same way. */
  sendField(field: Uint8Array<ArrayBuffer>, priority: number, partial: boolean): number {
    return this.#send(pointer(field), field.length, priority, partial);
  }

  /** Sends the last entry again (its message untouched since). */
  resend(): number {
    const k = this.#last;
    return this.#client.sendv(this.#iovPointers[k], this.#counts[k]);
  }

  /**
   * The first send (JournalClient.connect, off the main thread): `field`
   * must stay untouched until the promise settles.
   */
  connect(field: Uint8Array<ArrayBuffer>, priority: number, partial: boolean): Promise<number> {
    const k = 2 * priority + (partial ? 1 : 0);
    // A copy: the array stays untouched while the worker thread reads it.
    const iov = (this.#iovs[k] ?? this.#make(k, priority, partial)).slice();
    iov[0] = pointer(field);
    iov[1] = BigInt(field.length);
    return this.#client.connect(iov, this.#counts[k]);
  }

  #send(message: bigint, size: number, priority: number, partial: boolean): number {
    const k = 2 * priority + (partial ? 1 : 0);
    const iov = this.#iovs[k] ?? this.#make(k, priority, partial);
    iov[0] = message;
    iov[1] = 0n;
    this.#words[k][2] = size; // little-endian: the low word of iov[1]
    this.#last = k;
    return this.#client.sendv(this.#iovPointers[k], this.#counts[k]);
  }

  /** The array `k` for entries of this priority and partialness (slots 0, 1: MESSAGE). */
  #make(k: number, priority: number, partial: boolean): BigUint64Array<ArrayBuffer> {
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
}

function withPrefix(b: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  b.set(MESSAGE_EQ);
  return b;
}

function pointer(b: Uint8Array<ArrayBuffer>): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

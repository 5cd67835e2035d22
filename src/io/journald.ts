/**
 * The journald log driver: each line of container output becomes one entry
 * in the systemd journal, sent with libsystemd's sd_journal_sendv(3), with
 * conmon's fields. The parts, each in src/io/journald/:
 *  - line_splitter.ts: where entries begin and end (conmon main's rules);
 *  - entry_fields.ts: the fields an entry has, encoded once;
 *  - entry_sender.ts: entries as libsystemd takes them (iovec arrays by pointer);
 *  - delivery.ts: when to send, wait or drop (the journal never stalls the
 *    container for long).
 *
 * @module
 */
import type { Stream } from "./stream.ts";
import { JournalClient } from "../sys/libsystemd.ts";
import { type EmitEntry, JournalLineSplitter } from "./journald/line_splitter.ts";
import { JournalEntryFields, type JournalFields } from "./journald/entry_fields.ts";
import { EntrySender } from "./journald/entry_sender.ts";
import { JournalDelivery } from "./journald/delivery.ts";

/** The sink: container output to the journal. */
export class JournaldLog {
  #splitter = new JournalLineSplitter();
  #delivery: JournalDelivery;
  #emit: EmitEntry;

  constructor(
    fields: JournalFields,
    say: (message: string) => void,
    client: JournalClient = JournalClient.open(),
  ) {
    const sender = new EntrySender(new JournalEntryFields(fields), client);
    const delivery = new JournalDelivery(sender, say);
    this.#delivery = delivery;
    this.#emit = (m, p, partial) => delivery.entry(m, p, partial);
  }

  write(stream: Stream, chunk: Uint8Array): void {
    this.#splitter.split(stream, chunk, this.#emit);
  }

  /** Entries dropped so far. */
  get dropped(): number {
    return this.#delivery.dropped;
  }

  /** Waits (at most `ms`) for a first send still under way. */
  settle(ms = 1000): Promise<void> {
    return this.#delivery.settle(ms);
  }

  /** Sends what still waits for the rest of its line; reports drops. */
  close(): void {
    this.#splitter.flush("stdout", this.#emit);
    this.#splitter.flush("stderr", this.#emit);
    this.#delivery.close();
  }
}

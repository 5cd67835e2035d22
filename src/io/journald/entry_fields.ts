/**
 * The fields of a journal entry, with conmon's names, as the byte strings
 * ("FIELD=value") the journal takes:
 *
 *     MESSAGE=<the line, newline included>   CONTAINER_ID_FULL=<cid>
 *     PRIORITY=6 (stdout) or 3 (stderr)      CONTAINER_ID=<first 12 of cid>
 *     CONTAINER_TAG=<--log-tag>              CONTAINER_NAME=<--name>
 *     SYSLOG_IDENTIFIER=<tag, else name, else short id>
 *     CONTAINER_PARTIAL_MESSAGE=true         (a piece of a longer line)
 *     KEY=VALUE                              (each --log-label)
 *
 * @module
 */

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

const SHORT_ID = 12;
const encoder = new TextEncoder();

/** The MESSAGE field's name, with its "=": the message bytes follow it. */
export const MESSAGE_EQ = encoder.encode("MESSAGE=");

/** A MESSAGE field for `message`, in a buffer of its own (for an entry that waits). */
export function messageField(message: Uint8Array): Uint8Array<ArrayBuffer> {
  const field = new Uint8Array(MESSAGE_EQ.length + message.length);
  field.set(MESSAGE_EQ);
  field.set(message, MESSAGE_EQ.length);
  return field;
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

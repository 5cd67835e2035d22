/**
 * Reads the systemd journal through libsystemd's sd-journal API (bound with
 * FFI on first use; the monitor imports this module only when it needs to
 * read the journal). Opens the journal files the caller may read: a user
 * reads the entries of its own user manager there.
 *
 * Nothing here waits without an end: `wait()` takes a timeout and runs on
 * Deno's blocking thread pool, so the monitor's loop goes on meanwhile.
 *
 * @module
 */
import { cstr } from "./libc.ts";
import { LIBSYSTEMD } from "./libsystemd.ts";

const SYMBOLS = {
  sd_journal_open: { parameters: ["buffer", "i32"], result: "i32" },
  sd_journal_close: { parameters: ["pointer"], result: "void" },
  sd_journal_add_match: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  sd_journal_add_disjunction: { parameters: ["pointer"], result: "i32" },
  sd_journal_seek_realtime_usec: { parameters: ["pointer", "u64"], result: "i32" },
  sd_journal_next: { parameters: ["pointer"], result: "i32" },
  sd_journal_get_data: { parameters: ["pointer", "buffer", "buffer", "buffer"], result: "i32" },
  sd_journal_wait: { parameters: ["pointer", "u64"], result: "i32", nonblocking: true },
} as const satisfies Deno.ForeignLibraryInterface;

/** sd_journal_open flags: files on this machine only. */
const SD_JOURNAL_LOCAL_ONLY = 1;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** An open journal, read forward from a point in time through a set of matches. */
export class JournalReader {
  #j: Deno.PointerValue;
  #closed = false;

  private constructor(j: Deno.PointerValue) {
    this.#j = j;
  }

  /**
   * Opens the journal with `matches`: each inner list is a conjunction of
   * FIELD=value terms, the lists are alternatives. Throws a one-line Error
   * when libsystemd or the journal cannot be opened.
   */
  static open(matches: string[][]): JournalReader {
    lib ??= Deno.dlopen(LIBSYSTEMD, SYMBOLS);
    const out = new BigUint64Array(1);
    const r = lib.symbols.sd_journal_open(new Uint8Array(out.buffer), SD_JOURNAL_LOCAL_ONLY);
    if (r < 0) throw new Error(`cannot open the journal (errno ${-r})`);
    const reader = new JournalReader(Deno.UnsafePointer.create(out[0]));
    try {
      matches.forEach((all, i) => {
        if (i > 0) reader.#check(lib!.symbols.sd_journal_add_disjunction(reader.#j), "match");
        for (const term of all) {
          const bytes = new TextEncoder().encode(term);
          reader.#check(
            lib!.symbols.sd_journal_add_match(reader.#j, bytes, BigInt(bytes.length)),
            "match",
          );
        }
      });
    } catch (err) {
      reader.close();
      throw err;
    }
    return reader;
  }

  /** Positions the reader before the first entry logged at or after `usec` (CLOCK_REALTIME). */
  seekRealtime(usec: bigint): void {
    this.#check(lib!.symbols.sd_journal_seek_realtime_usec(this.#j, usec), "seek");
  }

  /** Moves to the next matching entry; false when there is none (yet). */
  next(): boolean {
    return this.#check(lib!.symbols.sd_journal_next(this.#j), "read") > 0;
  }

  /** The value of `field` in the current entry, if it has one. */
  field(field: string): string | undefined {
    const data = new BigUint64Array(1);
    const len = new BigUint64Array(1);
    const r = lib!.symbols.sd_journal_get_data(
      this.#j,
      cstr(field),
      new Uint8Array(data.buffer),
      new Uint8Array(len.buffer),
    );
    if (r < 0) return undefined;
    const ptr = Deno.UnsafePointer.create(data[0]);
    if (ptr === null) return undefined;
    const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(ptr, Number(len[0])));
    const text = new TextDecoder().decode(bytes);
    return text.slice(field.length + 1);
  }

  /** Waits up to `ms` for the journal to change. */
  async wait(ms: number): Promise<void> {
    this.#check(
      await lib!.symbols.sd_journal_wait(this.#j, BigInt(Math.max(0, Math.round(ms * 1000)))),
      "wait",
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    lib?.symbols.sd_journal_close(this.#j);
  }

  #check(r: number, what: string): number {
    if (r < 0) throw new Error(`cannot ${what} the journal (errno ${-r})`);
    return r;
  }
}

/**
 * The kernel's own word on OOM kills: its reports in /dev/kmsg. Opened when
 * the monitor starts, positioned at the end (so only kills from then on are
 * seen), and read only when asked: after a kill was counted, at the exit
 * when the cgroup is gone, or when create failed. An idle monitor never
 * reads it. The parser loads on first use.
 *
 * Where /dev/kmsg cannot be read (rootless, kernel.dmesg_restrict=1, no
 * such device), `unavailable` says why, and the counters stand alone.
 *
 * @module
 */
import { KmsgReader } from "./kmsg.ts";
import type { OomKillReport, OomReportParser } from "./oom_report.ts";

/** At most this many records are read per look (a full ring buffer is far less). */
const MAX_RECORDS_PER_LOOK = 65536;
/** Reports kept for the verdict; older ones are dropped and counted. */
const MAX_REPORTS = 64;

export class OomEvidence {
  readonly #reader: KmsgReader | undefined;
  /** Why the kernel's reports cannot be read, if they cannot. */
  readonly unavailable: string | undefined;
  #parser: OomReportParser | undefined;
  #reports: OomKillReport[] = [];
  #dropped = 0;
  #lost = 0;

  private constructor(reader: KmsgReader | string) {
    if (typeof reader === "string") this.unavailable = reader;
    else this.#reader = reader;
  }

  /** Opens /dev/kmsg (or `path`) at its end; never throws. */
  static open(path?: string): OomEvidence {
    try {
      return new OomEvidence(KmsgReader.open(path));
    } catch (err) {
      return new OomEvidence(`cannot open /dev/kmsg: ${err}`);
    }
  }

  /**
   * Reads what the kernel logged since the last look and returns the OOM
   * reports completed in it. Call it once a kill has settled: a report has
   * no end mark, so what was read is taken as whole.
   */
  async collect(): Promise<OomKillReport[]> {
    const reader = this.#reader;
    if (!reader) return [];
    const parser = this.#parser ??= new (await import("./oom_report.ts")).OomReportParser();
    for (let total = 0; total < MAX_RECORDS_PER_LOOK;) {
      const { records, lost } = reader.read();
      this.#lost += lost;
      if (records.length === 0 && lost === 0) break;
      for (const r of records) parser.push(r);
      total += records.length + lost;
    }
    const fresh = parser.flush();
    this.#reports.push(...fresh);
    const over = this.#reports.length - MAX_REPORTS;
    if (over > 0) {
      this.#reports.splice(0, over);
      this.#dropped += over;
    }
    return fresh;
  }

  /** Every report kept so far, oldest first. */
  get reports(): readonly OomKillReport[] {
    return this.#reports;
  }

  /** Records the kernel overwrote before we read them, and reports dropped for room. */
  get missed(): number {
    return this.#lost + this.#dropped + (this.#parser?.dropped ?? 0);
  }

  close(): void {
    this.#reader?.close();
  }
}

/**
 * --syslog: the monitor's own diagnostics also go to the system log, as
 * conmon's do, so that an operator finds in `journalctl` (or
 * /var/log/syslog) why a monitor failed: its stdio is /dev/null.
 *
 * A record is what syslog(3) sends to /dev/log (facility user), with
 * conmon's layout of the text:
 *
 *     <11>Nov 23 20:36:34 ocimon[4242]: ocimon 0123456789abcdef0123 <error>: MESSAGE
 *
 * identifier "ocimon" (conmon's says "conmon"), then the first 20
 * characters of the container id. A message with structured fields (an OOM
 * kill's MESSAGE_ID) goes to the journal's native socket where there is one,
 * so that `journalctl MESSAGE_ID=…` finds it; elsewhere to syslog like the
 * rest. Sends never block and never throw: with
 * no syslog daemon, or a journal that is not reading, the record is lost,
 * not the monitor.
 *
 * @module
 */
import {
  AF_UNIX,
  libc,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  O_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "./libc.ts";

export const LOG_ERR = 3;
export const LOG_WARNING = 4;
export const LOG_INFO = 6;
const LOG_USER = 1 << 3;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LABEL: Record<number, string> = {
  [LOG_ERR]: "error",
  [LOG_WARNING]: "warn",
  [LOG_INFO]: "info",
};

/** The record for one message (exported for the tests). */
export function syslogRecord(
  severity: number,
  cid: string,
  message: string,
  now = new Date(),
  pid = Deno.pid,
): string {
  const p2 = (n: number) => String(n).padStart(2, "0");
  const stamp = `${MONTHS[now.getMonth()]} ${String(now.getDate()).padStart(2, " ")} ` +
    `${p2(now.getHours())}:${p2(now.getMinutes())}:${p2(now.getSeconds())}`;
  const label = LABEL[severity] ?? "info";
  const text = message.replaceAll("\n", " ");
  return `<${LOG_USER | severity}>${stamp} ocimon[${pid}]: ocimon ${
    cid.slice(0, 20)
  } <${label}>: ${text}`;
}

/**
 * The journal's native record for one message with fields: KEY=VALUE lines
 * (every value here is one line), as the journal's socket takes them.
 */
export function journalRecord(
  severity: number,
  cid: string,
  message: string,
  fields: Record<string, string>,
  pid = Deno.pid,
): string {
  const all: Record<string, string> = {
    MESSAGE: syslogRecord(severity, cid, message).replace(/^.*?: /, ""),
    PRIORITY: String(severity),
    SYSLOG_FACILITY: "1",
    SYSLOG_IDENTIFIER: "ocimon",
    SYSLOG_PID: String(pid),
    ...fields,
  };
  return Object.entries(all).map(([k, v]) => `${k}=${v.replaceAll("\n", " ")}\n`).join("");
}

/** The journal's native socket. */
export const JOURNAL_SOCKET = "/run/systemd/journal/socket";

/** A sender of records to /dev/log (or `path`), and to the journal for records with fields. */
export class Syslog {
  #fd = -1;
  #addr: Uint8Array<ArrayBuffer>;
  #journal: Uint8Array<ArrayBuffer> | undefined;

  constructor(
    readonly cid: string,
    path = "/dev/log",
    journalPath = JOURNAL_SOCKET,
    /** Fields every structured record carries (the container's name and id). */
    readonly commonFields: Record<string, string> = {},
  ) {
    this.#addr = unixAddress(path);
    this.#journal = unixAddress(journalPath);
  }

  /** Sends one record; best effort. With `fields`, to the journal where it listens. */
  send(severity: number, message: string, fields?: Record<string, string>): void {
    try {
      if (this.#fd < 0) this.#fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | O_CLOEXEC, 0);
      if (this.#fd < 0) return;
      if (fields && this.#journal) {
        const rec = journalRecord(severity, this.cid, message, { ...this.commonFields, ...fields });
        if (this.#sendTo(this.#journal, rec) >= 0) return;
        this.#journal = undefined; // no journal here: syslog from now on
      }
      this.#sendTo(this.#addr, syslogRecord(severity, this.cid, message));
    } catch { /* nowhere to say it */ }
  }

  #sendTo(addr: Uint8Array<ArrayBuffer>, text: string): number {
    const data = new TextEncoder().encode(text);
    return Number(
      libc.sendto(
        this.#fd,
        data,
        BigInt(data.length),
        MSG_DONTWAIT | MSG_NOSIGNAL,
        addr,
        addr.length,
      ),
    );
  }
}

function unixAddress(path: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(path);
  const addr = new Uint8Array(2 + bytes.length + 1);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(bytes, 2);
  return addr;
}

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
 * characters of the container id. Sends never block and never throw: with
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

/** A sender of records to /dev/log (or `path`). */
export class Syslog {
  #fd = -1;
  #addr: Uint8Array<ArrayBuffer>;

  constructor(readonly cid: string, path = "/dev/log") {
    const bytes = new TextEncoder().encode(path);
    this.#addr = new Uint8Array(2 + bytes.length + 1);
    new DataView(this.#addr.buffer).setUint16(0, AF_UNIX, true);
    this.#addr.set(bytes, 2);
  }

  /** Sends one record; best effort. */
  send(severity: number, message: string): void {
    try {
      if (this.#fd < 0) this.#fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | O_CLOEXEC, 0);
      if (this.#fd < 0) return;
      const data = new TextEncoder().encode(syslogRecord(severity, this.cid, message));
      libc.sendto(
        this.#fd,
        data,
        BigInt(data.length),
        MSG_DONTWAIT | MSG_NOSIGNAL,
        this.#addr,
        this.#addr.length,
      );
    } catch { /* nowhere to say it */ }
  }
}

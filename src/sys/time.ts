/**
 * Wall-clock time with nanoseconds, and RFC 3339 formatting of it.
 *
 * @module
 */
import { libc } from "./libc.ts";

const CLOCK_REALTIME = 0;
const ts = new BigInt64Array(2);
const tsBytes = new Uint8Array(ts.buffer);

/** Seconds and nanoseconds since the epoch, from clock_gettime(CLOCK_REALTIME). */
export function realtime(): { sec: number; nsec: number } {
  libc.clock_gettime(CLOCK_REALTIME, tsBytes);
  return { sec: Number(ts[0]), nsec: Number(ts[1]) };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** "+01:00" style offset of local time at `sec`; "Z" is never used (as conmon). */
function zoneOffset(date: Date): string {
  const off = -date.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  return `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

let cachedSec = -1;
let cachedPrefix = "";
let cachedZone = "";

/**
 * RFC 3339 local time with nine fractional digits, e.g.
 * "2026-11-23T05:31:07.123456789+00:00". The per-second part is cached:
 * the log path calls this once per chunk.
 */
export function rfc3339Nano(t = realtime()): string {
  if (t.sec !== cachedSec) {
    const d = new Date(t.sec * 1000);
    cachedPrefix = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    cachedZone = zoneOffset(d);
    cachedSec = t.sec;
  }
  return `${cachedPrefix}.${pad(t.nsec, 9)}${cachedZone}`;
}

/**
 * Terminal settings on the pty master the runtime hands us.
 *
 * @module
 */
import { check, libc } from "./libc.ts";

const TIOCSWINSZ = 0x5414n;
const TCSANOW = 0;
const ONLCR = 0o4;
const TERMIOS_SIZE = 60;

/** Sets the window size a terminal reports to the process on it. */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  check(libc.ioctl(fd, TIOCSWINSZ, new Uint8Array(ws.buffer)), "ioctl(TIOCSWINSZ)");
}

/** Output newline translation (ONLCR), as kubelet and conmon expect. */
export function enableOnlcr(fd: number): void {
  const t = new Uint8Array(TERMIOS_SIZE);
  if (libc.tcgetattr(fd, t) < 0) return;
  const view = new DataView(t.buffer);
  view.setUint32(4, view.getUint32(4, true) | ONLCR, true); // c_oflag
  libc.tcsetattr(fd, TCSANOW, t);
}

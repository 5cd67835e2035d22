/**
 * Raw file descriptors: pipes, reads and writes that Deno's file API cannot do
 * on descriptors it did not open itself (inherited pipes, eventfd, inotify).
 *
 * @module
 */
import {
  check,
  EAGAIN,
  EINTR,
  errno,
  F_DUPFD_CLOEXEC,
  libc,
  O_CLOEXEC,
  O_NONBLOCK,
  SysError,
} from "./libc.ts";

const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const FD_CLOEXEC = 1;

/** A pipe as `[readEnd, writeEnd]`, both close-on-exec. */
export function pipe(flags = 0): [number, number] {
  const fds = new Int32Array(2);
  check(libc.pipe2(fds, O_CLOEXEC | flags), "pipe2");
  return [fds[0], fds[1]];
}

const F_SETPIPE_SZ = 1031;

/**
 * Asks for a pipe buffer of `bytes`; best effort (the kernel may refuse past
 * /proc/sys/fs/pipe-max-size or the user's pipe quota, and the default stays).
 */
export function trySetPipeSize(fd: number, bytes: number): boolean {
  return libc.fcntl(fd, F_SETPIPE_SZ, BigInt(bytes)) >= 0;
}

/** Closes `fd`, ignoring errors: used on cleanup paths. */
export function closeQuietly(fd: number | undefined | null): void {
  if (fd !== undefined && fd !== null && fd >= 0) libc.close(fd);
}

export function setCloexec(fd: number, on: boolean): void {
  const flags = check(libc.fcntl(fd, F_GETFD, 0n), "fcntl(F_GETFD)");
  const next = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  check(libc.fcntl(fd, F_SETFD, BigInt(next)), "fcntl(F_SETFD)");
}

export function setNonBlocking(fd: number, on = true): void {
  const flags = check(libc.fcntl(fd, F_GETFL, 0n), "fcntl(F_GETFL)");
  const next = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  check(libc.fcntl(fd, F_SETFL, BigInt(next)), "fcntl(F_SETFL)");
}

/**
 * One read(2) into `buf`. Returns the byte count, 0 at end of file, or -1
 * when a non-blocking descriptor has nothing to read. Retries EINTR.
 */
export function readSome(fd: number, buf: Uint8Array<ArrayBuffer>): number {
  for (;;) {
    const n = Number(libc.read(fd, buf, BigInt(buf.byteLength)));
    if (n >= 0) return n;
    const e = errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) return -1;
    throw new SysError("read", e, `fd ${fd}`);
  }
}

/** Writes all of `data` to a blocking descriptor. Retries EINTR. */
export function writeAll(fd: number, data: Uint8Array<ArrayBuffer>): void {
  let off = 0;
  while (off < data.byteLength) {
    const chunk = off === 0 ? data : data.subarray(off);
    const n = Number(libc.write(fd, chunk, BigInt(chunk.byteLength)));
    if (n < 0) {
      const e = errno();
      if (e === EINTR) continue;
      throw new SysError("write", e, `fd ${fd}`);
    }
    off += n;
  }
}

/** Writes what a non-blocking descriptor accepts now; returns the count. */
export function writeSome(fd: number, data: Uint8Array<ArrayBuffer>): number {
  for (;;) {
    const n = Number(libc.write(fd, data, BigInt(data.byteLength)));
    if (n >= 0) return n;
    const e = errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) return 0;
    throw new SysError("write", e, `fd ${fd}`);
  }
}

/** Opens a path with open(2) flags, for descriptors that must stay raw. */
export function openRaw(path: string, flags: number, mode = 0o644): number {
  const p = new TextEncoder().encode(path + "\0");
  return check(libc.open(p, flags, mode), "open", path);
}

/** A close-on-exec duplicate of `fd`. */
export function dupCloexec(fd: number): number {
  return check(libc.fcntl(fd, F_DUPFD_CLOEXEC, 3n), "fcntl(F_DUPFD_CLOEXEC)");
}

const FIONREAD = 0x541bn;

/** How many bytes a pipe (or pty, or socket) holds right now; 0 if unknown. */
export function bytesReadable(fd: number): number {
  const n = new Int32Array(1);
  return libc.ioctl(fd, FIONREAD, new Uint8Array(n.buffer)) < 0 ? 0 : n[0];
}

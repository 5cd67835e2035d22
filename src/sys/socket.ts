/**
 * Unix sockets Deno does not offer: SOCK_SEQPACKET (the attach socket) and
 * SCM_RIGHTS (the runtime hands over the pty master on the console socket).
 *
 * @module
 */
import {
  AF_UNIX,
  check,
  cstr,
  EAGAIN,
  EINTR,
  errno,
  libc,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SysError,
} from "./libc.ts";
import { openRaw } from "./fd.ts";

const SUN_PATH_MAX = 108;
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;

/**
 * A sockaddr_un for a path (NUL-terminated), or for "@name" in the abstract
 * namespace (exactly as long as the name).
 */
export function sockaddrUn(path: string): Uint8Array<ArrayBuffer> {
  const abstract = path.startsWith("@");
  const bytes = new TextEncoder().encode(abstract ? path.slice(1) : path);
  if (bytes.length >= SUN_PATH_MAX) throw new Error(`socket path too long: ${path}`);
  const addr = new Uint8Array(2 + SUN_PATH_MAX);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  if (!abstract) {
    addr.set(bytes, 2);
    return addr;
  }
  addr.set(bytes, 3);
  return addr.slice(0, 3 + bytes.length);
}

/** A new unix socket of `type`, non-blocking and close-on-exec. */
export function unixSocket(type: number): number {
  return check(libc.socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket");
}

/** A connected pair of unix stream sockets, close-on-exec (as Go's unix.Socketpair). */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  check(
    libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer)),
    "socketpair",
  );
  return [fds[0], fds[1]];
}

/**
 * A unix socket of `type` bound at `dir/name` (replacing what is there),
 * non-blocking, with `mode`. The address is given as /proc/self/fd/N/name,
 * N an O_PATH descriptor of `dir`, so a long bundle path never overflows
 * sun_path (as conmon does).
 */
export function bindUnix(dir: string, name: string, type: number, mode: number): number {
  const dirFd = openRaw(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  let fd = -1;
  try {
    fd = unixSocket(type);
    try {
      Deno.removeSync(`${dir}/${name}`);
    } catch { /* not there */ }
    const addr = sockaddrUn(`/proc/self/fd/${dirFd}/${name}`);
    check(libc.bind(fd, addr, addr.length), "bind", `${dir}/${name}`);
    Deno.chmodSync(`${dir}/${name}`, mode);
    return fd;
  } catch (err) {
    if (fd >= 0) libc.close(fd);
    throw err;
  } finally {
    libc.close(dirFd);
  }
}

/** A listening unix socket at `dir/name`, non-blocking (see bindUnix). */
export function listenUnix(
  dir: string,
  name: string,
  type: number,
  backlog: number,
  mode = 0o700,
): number {
  const fd = bindUnix(dir, name, type, mode);
  try {
    check(libc.listen(fd, backlog), "listen", `${dir}/${name}`);
    return fd;
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}

/** Accepts one pending connection (blocking descriptor); undefined if none waits. */
export function acceptConnection(listenFd: number): number | undefined {
  for (;;) {
    const fd = libc.accept4(listenFd, null, null, SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    const e = errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) return undefined;
    throw new SysError("accept4", e);
  }
}

/** Connects to a unix socket path (for tests and tools). */
export function connectUnix(path: string, type: number): number {
  const fd = check(libc.socket(AF_UNIX, type | SOCK_CLOEXEC, 0), "socket");
  const addr = sockaddrUn(path);
  if (libc.connect(fd, addr, addr.length) < 0) {
    const err = new SysError("connect", errno(), path);
    libc.close(fd);
    throw err;
  }
  return fd;
}

export function shutdownSocket(fd: number, how: number): void {
  libc.shutdown(fd, how);
}

/** One recv(2); -1 when nothing is ready on a non-blocking socket. */
export function recvSome(fd: number, buf: Uint8Array<ArrayBuffer>): number {
  for (;;) {
    const n = Number(libc.recv(fd, buf, BigInt(buf.length), 0));
    if (n >= 0) return n;
    const e = errno();
    if (e === EINTR) continue;
    if (e === EAGAIN) return -1;
    throw new SysError("recv", e, `fd ${fd}`);
  }
}

const ptr = (b: Uint8Array) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));

/** Receives one descriptor passed with SCM_RIGHTS (blocking). */
export function receiveFd(sock: number): number {
  const data = new Uint8Array(4096);
  const iov = new BigUint64Array([ptr(data), BigInt(data.length)]);
  const control = new Uint8Array(64);
  const msg = new BigUint64Array(7); // struct msghdr
  msg[2] = ptr(new Uint8Array(iov.buffer));
  msg[3] = 1n; // msg_iovlen
  msg[4] = ptr(control);
  msg[5] = BigInt(control.length);
  const msgBytes = new Uint8Array(msg.buffer);
  for (;;) {
    const n = Number(libc.recvmsg(sock, msgBytes, MSG_CMSG_CLOEXEC));
    if (n >= 0) break;
    const e = errno();
    if (e !== EINTR) throw new SysError("recvmsg", e);
  }
  const view = new DataView(control.buffer);
  const len = Number(view.getBigUint64(0, true));
  const level = view.getInt32(8, true);
  const type = view.getInt32(12, true);
  if (len < 20 || level !== SOL_SOCKET || type !== SCM_RIGHTS) {
    throw new Error("the console socket sent no file descriptor");
  }
  return view.getInt32(16, true);
}

/** Creates a FIFO (mode 0660), replacing whatever was at `path`. */
export function makeFifo(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* not there */ }
  check(libc.mkfifo(cstr(path), 0o660), "mkfifo", path);
}

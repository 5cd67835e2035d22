/**
 * inotify and eventfd descriptors, for watching cgroup files.
 *
 * @module
 */
import { check, cstr, errno, libc, O_CLOEXEC, O_NONBLOCK, SysError } from "./libc.ts";
import { readSome } from "./fd.ts";

export const IN_MODIFY = 0x2;

/** A non-blocking inotify instance watching `path` for `mask`. */
export function inotifyWatch(path: string, mask = IN_MODIFY): number {
  const fd = check(libc.inotify_init1(O_CLOEXEC | O_NONBLOCK), "inotify_init1");
  if (libc.inotify_add_watch(fd, cstr(path), mask) < 0) {
    const err = new SysError("inotify_add_watch", errno(), path);
    libc.close(fd);
    throw err;
  }
  return fd;
}

/** A non-blocking eventfd. */
export function eventFd(): number {
  return check(libc.eventfd(0, O_CLOEXEC | O_NONBLOCK), "eventfd");
}

const scratch = new Uint8Array(4096);

/** Consumes everything queued on a non-blocking inotify or eventfd descriptor. */
export function drainEvents(fd: number): void {
  while (readSome(fd, scratch) > 0) { /* discard */ }
}

/**
 * The pipes podman and CRI-O hand to their monitor by fd number in the
 * environment (named in src/env.ts): the sync pipe (we report the container
 * pid, or the error, and for exec the exit code), the start pipe (we block
 * on it until the caller has put us in our cgroup) and the attach pipe
 * (exec --exec-attach).
 *
 * @module
 */
import { closeQuietly, readSome, setCloexec, writeAll } from "../sys/fd.ts";
import { diag } from "../diag.ts";
import { pipeFdFromEnv } from "../env.ts";

/**
 * Blocks until the caller writes to (or closes) the start pipe `fd`. The
 * caller uses the pause to move us into the container's cgroup. An attached
 * exec session uses the pipe a second time (to say "attached, go on"), so
 * then it stays open; otherwise it is closed.
 */
export function waitOnStartPipe(fd: number | undefined, keepOpen: boolean): void {
  if (fd === undefined) return;
  readSome(fd, new Uint8Array(8192));
  if (!keepOpen) closeQuietly(fd);
}

/**
 * JSON as conmon writes it: the key is "data" from API version 1 on; before
 * it, "exit_code" for exec sessions and "pid" otherwise.
 */
export function syncMessage(
  apiVersion: number,
  data: number,
  message?: string,
  exec = false,
): string {
  const key = apiVersion >= 1 ? "data" : exec ? "exit_code" : "pid";
  const body = message === undefined
    ? `{"${key}": ${data}}`
    : `{"${key}": ${data}, "message": ${JSON.stringify(message)}}`;
  return body + "\n";
}

/** One of the caller's pipes we write JSON messages to. */
export class ParentPipe {
  #fd: number | undefined;

  constructor(fd: number | undefined, readonly apiVersion: number, readonly exec = false) {
    this.#fd = fd;
    // Not for the runtime or the container: keep it out of every exec.
    if (fd !== undefined) setCloexec(fd, true);
  }

  /** The pipe the variable `name` (src/env.ts) names, if it names one. */
  static fromEnv(name: string, apiVersion: number, exec = false): ParentPipe {
    return new ParentPipe(pipeFdFromEnv(name), apiVersion, exec);
  }

  /** Sends `data` (a pid, an exit code, or -1) with an optional message. */
  send(data: number, message?: string): void {
    if (this.#fd === undefined) return;
    try {
      writeAll(
        this.#fd,
        new TextEncoder().encode(syncMessage(this.apiVersion, data, message, this.exec)),
      );
    } catch (err) {
      // The caller went away (EPIPE): nothing more to tell it.
      diag(`cannot write to the caller's pipe: ${err}`);
    }
  }

  close(): void {
    closeQuietly(this.#fd);
    this.#fd = undefined;
  }
}

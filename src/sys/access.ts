/**
 * access(2), as conmon checks its runtime: by the caller's real ids, so a
 * directory passes for root (it fails later, at exec, as with conmon).
 *
 * @module
 */
import { cstr, errno, libc, strerror } from "./libc.ts";

export const X_OK = 1;

/** Why `path` may not be used with `mode` (strerror text), or undefined if it may. */
export function accessProblem(path: string, mode: number): string | undefined {
  if (libc.access(cstr(path), mode) === 0) return undefined;
  return strerror(errno());
}

/**
 * File-system look-ups shared by src/, the tests and the scripts.
 *
 * @module
 */

/** True when something (a file, a directory, a dangling symlink) is at `path`. */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

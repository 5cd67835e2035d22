/**
 * Atomic file replacement: readers see the old file or the whole new one,
 * never a half-written one, and a failure leaves no temporary file behind.
 *
 * No fsync: the readers are processes on this same running system, to whom
 * rename(2) is atomic; a machine crash ends the container with it. conmon
 * does not sync its exit files either, and each fsync cost ~0.5 ms on the
 * path from the container's death to the exit file.
 *
 * @module
 */
import { dirname, join } from "../util/path.ts";

let seq = 0;

/**
 * Writes `data` to `path` through a temporary file in the same directory.
 * The temporary name does not embed the target's (a 255-byte container id
 * is a valid exit file name); pid and a counter keep it unique.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = join(dirname(path), `.ocimon-${Deno.pid}-${++seq}.tmp`);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode });
    try {
      let off = 0;
      while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  } catch (err) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never created */ }
    throw err;
  }
}

/**
 * Why `path` could not be written through writeFileAtomic(), in words for a
 * person; undefined if it can. Leaves nothing behind.
 */
export function checkWritable(path: string): string | undefined {
  const dir = dirname(path);
  const tmp = join(dir, `.ocimon-${Deno.pid}-${++seq}.tmp`);
  try {
    Deno.openSync(tmp, { write: true, create: true, truncate: true }).close();
    Deno.removeSync(tmp);
    return undefined;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return `directory ${dir} does not exist`;
    if (err instanceof Deno.errors.PermissionDenied) return `no permission to write in ${dir}`;
    if (err instanceof Deno.errors.NotADirectory) return `${dir} is not a directory`;
    return err instanceof Error ? err.message : String(err);
  }
}

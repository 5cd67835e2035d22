/**
 * which(1): where a command is found on a search path. One copy for ocimon
 * (`ocimon run` finds runc or crun), the tests and the scripts.
 *
 * @module
 */
import { join } from "./path.ts";

/**
 * The first file named `name` in the directories of `searchPath` (a PATH
 * value: colon-separated, an empty entry the current directory); a name
 * with a slash is a path already, returned as it is. Undefined if none.
 */
export function which(name: string, searchPath: string): string | undefined {
  if (name.includes("/")) return name;
  for (const dir of searchPath.split(":")) {
    const path = join(dir || ".", name);
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return undefined;
}

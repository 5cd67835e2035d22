/**
 * What an fsnotify watcher (CRI-O's) sees in a directory: fsnotify reports
 * both IN_CREATE and IN_MOVED_TO on a name as a Create event.
 *
 * @module
 */
import { inotifyWatch } from "../../src/sys/notify.ts";
import { closeQuietly, readSome } from "../../src/sys/fd.ts";

const IN_MOVED_TO = 0x80;
const IN_CREATE = 0x100;

export class CreateWatch {
  #fd: number;
  #buf = new Uint8Array(65536);

  constructor(dir: string) {
    this.#fd = inotifyWatch(dir, IN_CREATE | IN_MOVED_TO);
  }

  /** The names created (or renamed into place) since the last call. */
  created(): string[] {
    const names: string[] = [];
    for (let n; (n = readSome(this.#fd, this.#buf)) > 0;) {
      const view = new DataView(this.#buf.buffer, 0, n);
      for (let o = 0; o < n;) {
        const len = view.getUint32(o + 12, true);
        const raw = this.#buf.subarray(o + 16, o + 16 + len);
        const end = raw.indexOf(0);
        names.push(new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end)));
        o += 16 + len;
      }
    }
    return names;
  }

  close(): void {
    closeQuietly(this.#fd);
  }
}

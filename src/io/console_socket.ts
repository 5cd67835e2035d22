/**
 * The console socket for `-t`: a unix socket the runtime connects to during
 * `create`/`exec --tty`, sending the pty master with SCM_RIGHTS.
 *
 * @module
 */
import { join } from "../util/path.ts";
import { closeQuietly } from "../sys/fd.ts";
import { SOCK_STREAM } from "../sys/libc.ts";
import { acceptConnection, listenUnix, receiveFd } from "../sys/socket.ts";
import { enableOnlcr } from "../sys/tty.ts";
import { tmpDir } from "../env.ts";

export class ConsoleSocket {
  readonly path: string;
  #fd: number;

  constructor() {
    const dir = tmpDir();
    const name = `ocimon-term.${crypto.randomUUID().slice(0, 12)}`;
    this.path = join(dir, name);
    this.#fd = listenUnix(dir, name, SOCK_STREAM, 128);
  }

  /**
   * The pty master, once the runtime has sent it (call after the runtime
   * returned: its message waits in the socket). Undefined if it never came.
   */
  receiveMaster(): number | undefined {
    const conn = acceptConnection(this.#fd);
    if (conn === undefined) return undefined;
    try {
      const master = receiveFd(conn);
      enableOnlcr(master);
      return master;
    } finally {
      closeQuietly(conn);
      this.close();
    }
  }

  close(): void {
    if (this.#fd < 0) return;
    closeQuietly(this.#fd);
    this.#fd = -1;
    try {
      Deno.removeSync(this.path);
    } catch { /* gone */ }
  }
}

/**
 * Socket activation through podman and its monitor: a `.socket` unit
 * (Accept=yes) starts a `podman run` service per connection. systemd gives
 * podman the connection as fd 3 with LISTEN_FDS=1 and LISTEN_PID=podman's
 * pid; podman passes the fd on to the monitor and the runtime
 * (`--preserve-fds 1`) and sets LISTEN_FDS, LISTEN_PID=1 and LISTEN_FDNAMES
 * in the container's environment itself. The container answers through
 * fd 3. In the systemd VM (podman 4.3, runc and crun) the container saw the
 * same whether the monitor replaced LISTEN_PID for the runtime or not, and
 * the same with conmon: what `--replace-listen-pid` itself does, with the
 * real runtime, is tested in tests/integration/conmon_compat_test.ts.
 * OCIMON_BIN=/usr/bin/conmon is the control. Needs systemd as PID 1
 * (tests/systemd: the systemd VM lane).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MONITOR_NAME, OCIMON_BIN, RUNTIME } from "../support/env.ts";
import { run } from "../support/harness.ts";
import { ensureRootfs } from "../support/bundle.ts";

const base = Deno.makeTempDirSync({ dir: "/tmp", prefix: "osa" });
const rootfs = ensureRootfs(base);
const cmd = (argv: string[], ms = 60_000) => run(argv, { timeoutMs: ms });

/** Connects to `path` and reads until the other end closes (or `ms` pass). */
async function answer(path: string, ms: number): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  const timer = setTimeout(() => conn.close(), ms);
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch {
    /* closed at the timeout */
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed already */ }
  }
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}

Deno.test(`socket activation (${MONITOR_NAME}): a .socket unit's connection reaches the container as fd 3, LISTEN_FDS=1, LISTEN_PID its own pid`, async () => {
  const n = `sa-${MONITOR_NAME}-${Deno.pid}`;
  const sock = `/run/ocimon-${n}.sock`;
  const units = "/run/systemd/system";
  const socketUnit = `ocimon-${n}.socket`;
  const dir = Deno.makeTempDirSync({ dir: "/tmp", prefix: "osa" });
  // What the container says: LISTEN_PID, its own pid, LISTEN_FDS, and that fd 3 is a socket.
  Deno.writeTextFileSync(
    join(dir, "reply.sh"),
    'kind=$(readlink /proc/self/fd/3 | cut -d: -f1)\necho "$LISTEN_PID $$ $LISTEN_FDS $kind" >&3\n',
  );
  Deno.writeTextFileSync(
    join(units, socketUnit),
    `[Socket]\nListenStream=${sock}\nAccept=yes\n`,
  );
  Deno.writeTextFileSync(
    join(units, `ocimon-${n}@.service`),
    "[Service]\n" +
      `ExecStart=podman --runtime ${RUNTIME} --conmon ${OCIMON_BIN} run --rm --network none ` +
      `-v ${dir}:/m:ro --rootfs ${rootfs} sh /m/reply.sh\n`,
  );
  try {
    assert.equal((await cmd(["systemctl", "daemon-reload"])).code, 0);
    const start = await cmd(["systemctl", "start", socketUnit]);
    assert.equal(start.code, 0, start.stderr);
    const said = await answer(sock, 120_000);
    const journal = await cmd(["journalctl", "--no-pager", "-o", "cat", "-u", `ocimon-${n}@*`]);
    assert.equal(
      said,
      "1 1 1 socket\n",
      `the container said ${JSON.stringify(said)}\n${journal.stdout}`,
    );
  } finally {
    await cmd(["systemctl", "stop", socketUnit]);
    // An instance still running (a failed or slow run) goes too, with its container.
    await cmd(["systemctl", "stop", `ocimon-${n}@*.service`], 120_000);
    for (const f of [socketUnit, `ocimon-${n}@.service`]) {
      try {
        Deno.removeSync(join(units, f));
      } catch { /* never written */ }
    }
    await cmd(["systemctl", "daemon-reload"]);
    Deno.removeSync(dir, { recursive: true });
  }
});

/** --syslog records: syslog(3)'s framing with conmon's layout of the text. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { LOG_ERR, LOG_WARNING, Syslog, syslogRecord } from "../../src/sys/syslog.ts";
import { check, libc, O_CLOEXEC } from "../../src/sys/libc.ts";

Deno.test("syslog record: <PRI>, a local time stamp, ocimon[PID], the id's first 20 characters", () => {
  const when = new Date(2026, 10, 3, 4, 5, 6);
  assert.equal(
    syslogRecord(LOG_ERR, "0123456789abcdef0123456789", "runtime failed", when, 42),
    "<11>Nov  3 04:05:06 ocimon[42]: ocimon 0123456789abcdef0123 <error>: runtime failed",
  );
  assert.equal(
    syslogRecord(LOG_WARNING, "short", "a\nb", when, 7),
    "<12>Nov  3 04:05:06 ocimon[7]: ocimon short <warn>: a b",
  );
});

Deno.test("syslog: a record reaches a datagram socket; no socket there is no error", () => {
  const dir = Deno.makeTempDirSync({ prefix: "ocimon-syslog-" });
  try {
    const path = join(dir, "log");
    const fd = check(libc.socket(1, 2 | O_CLOEXEC, 0), "socket");
    const addr = new Uint8Array(110);
    new DataView(addr.buffer).setUint16(0, 1, true);
    addr.set(new TextEncoder().encode(path), 2);
    check(libc.bind(fd, addr, addr.length), "bind");
    new Syslog("abc", path).send(LOG_ERR, "hello");
    const buf = new Uint8Array(512);
    const n = Number(libc.recv(fd, buf, 512n, 0x40));
    libc.close(fd);
    assert.match(
      new TextDecoder().decode(buf.subarray(0, Math.max(n, 0))),
      /^<11>.* ocimon\[\d+\]: ocimon abc <error>: hello$/,
    );
    new Syslog("abc", join(dir, "nobody")).send(LOG_ERR, "lost, quietly");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { ParentPipe, syncMessage } from "../../src/io/sync_pipe.ts";
import { pipe, readSome } from "../../src/sys/fd.ts";

Deno.test("api version 1 speaks 'data'; before it, 'pid'", () => {
  assert.equal(syncMessage(1, 1234), '{"data": 1234}\n');
  assert.equal(syncMessage(0, 1234), '{"pid": 1234}\n');
});

Deno.test("errors carry the message, JSON-escaped", () => {
  const msg = syncMessage(1, -1, 'exec: "/bin/x": stat\n');
  assert.equal(msg, '{"data": -1, "message": "exec: \\"/bin/x\\": stat\\n"}\n');
  assert.deepEqual(JSON.parse(msg), { data: -1, message: 'exec: "/bin/x": stat\n' });
});

Deno.test("a ParentPipe writes whole messages to its fd", () => {
  const [r, w] = pipe();
  const p = new ParentPipe(w, 1);
  p.send(42);
  p.close();
  const buf = new Uint8Array(100);
  const n = readSome(r, buf);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n)), '{"data": 42}\n');
  assert.equal(readSome(r, buf), 0, "closed after close()");
});

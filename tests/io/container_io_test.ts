import assert from "node:assert/strict";
import { closeChildEnds, closeParentEnds, createStdioPipes } from "../../src/io/container_io.ts";
import { libc } from "../../src/sys/libc.ts";

const F_GETPIPE_SZ = 1032;

Deno.test("stdio pipes: stdout and stderr hold 256 KiB; stdin only with -i", () => {
  const p = createStdioPipes(false, true);
  try {
    assert.equal(p.childStdin, undefined);
    assert.equal(p.stdinWriter, undefined);
    for (const fd of [p.stdoutReader!, p.stderrReader]) {
      assert.equal(libc.fcntl(fd, F_GETPIPE_SZ, 0n), 256 * 1024);
    }
  } finally {
    closeChildEnds(p);
    closeParentEnds(p);
  }
  const withStdin = createStdioPipes(true, true);
  assert.notEqual(withStdin.stdinWriter, undefined);
  closeChildEnds(withStdin);
  closeParentEnds(withStdin);
});

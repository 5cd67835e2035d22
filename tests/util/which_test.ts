import assert from "node:assert/strict";
import { which } from "../../src/util/which.ts";
import { tempDir } from "../support/env.ts";

Deno.test("which: the first directory of the search path that has the file", () => {
  const a = tempDir("which-a");
  const b = tempDir("which-b");
  try {
    Deno.writeTextFileSync(`${b}/tool`, "");
    assert.equal(which("tool", `${a}:${b}`), `${b}/tool`);
    Deno.writeTextFileSync(`${a}/tool`, "");
    assert.equal(which("tool", `${a}:${b}`), `${a}/tool`);
    Deno.mkdirSync(`${a}/dir`);
    assert.equal(which("dir", `${a}:${b}`), undefined, "a directory is not a command");
    assert.equal(which("missing", `${a}:${b}`), undefined);
    assert.equal(which("missing", ""), undefined);
  } finally {
    Deno.removeSync(a, { recursive: true });
    Deno.removeSync(b, { recursive: true });
  }
});

Deno.test("which: an empty entry is the current directory; a name with a slash is a path", () => {
  const dir = tempDir("which-cwd");
  const cwd = Deno.cwd();
  try {
    Deno.writeTextFileSync(`${dir}/tool`, "");
    Deno.chdir(dir);
    assert.equal(which("tool", "/nonexistent:"), "tool");
    assert.equal(which("./elsewhere/tool", "/nonexistent"), "./elsewhere/tool");
  } finally {
    Deno.chdir(cwd);
    Deno.removeSync(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import * as posix from "node:path/posix";
import {
  basename,
  dirname,
  isAbsolute,
  join,
  normalize,
  relative,
  resolve,
} from "../../src/util/path.ts";

// src/util/path.ts stands in for node:path in the monitor; it must agree with it.
const PATHS = [
  "/",
  "/a",
  "/a/b/",
  "//a//b",
  "/a/./b/../c",
  "/../a",
  "a/b",
  "a/../..",
  "./a",
  ".",
  "/run/containers/storage/overlay-containers/abc/userdata",
];

/** node's normalize without the trailing "/" it keeps (ours never keeps one). */
function nodeNormalize(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

Deno.test("normalize, dirname, basename, isAbsolute agree with node:path", () => {
  for (const p of PATHS) {
    assert.equal(normalize(p), nodeNormalize(p), `normalize ${p}`);
    // Ours normalizes first: "//a//b" has dirname "/a", not node's "//a".
    assert.equal(dirname(p), posix.dirname(nodeNormalize(p)), `dirname ${p}`);
    assert.equal(basename(p), posix.basename(p), `basename ${p}`);
    assert.equal(isAbsolute(p), posix.isAbsolute(p), `isAbsolute ${p}`);
  }
  assert.equal(normalize(""), posix.normalize(""));
});

Deno.test("join and resolve agree with node:path", () => {
  assert.equal(join("/a", "b", "../c"), posix.join("/a", "b", "../c"));
  assert.equal(join("/a", "", "b"), posix.join("/a", "", "b"));
  assert.equal(join("a", "/b"), posix.join("a", "/b"));
  assert.equal(resolve("/base", "x/y"), posix.resolve("/base", "x/y"));
  assert.equal(resolve("/base", "/abs"), posix.resolve("/base", "/abs"));
  assert.equal(resolve("/base", "../up"), posix.resolve("/base", "../up"));
});

Deno.test("relative agrees with node:path for absolute paths", () => {
  const pairs: [string, string][] = [
    ["/sys/fs/cgroup", "/sys/fs/cgroup/a/b"],
    ["/sys/fs/cgroup", "/sys/fs/cgroup"],
    ["/a/b/c", "/a/d"],
    ["/", "/x"],
  ];
  for (const [from, to] of pairs) assert.equal(relative(from, to), posix.relative(from, to));
});

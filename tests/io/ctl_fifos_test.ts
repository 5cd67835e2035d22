import assert from "node:assert/strict";
import { parseCtlLine, parseWinszLine } from "../../src/io/ctl_fifos.ts";

Deno.test("ctl: three integers lead the line, the rest is ignored, as conmon's sscanf", () => {
  assert.deepEqual(parseCtlLine("1 24 80"), { type: 1, a: 24, b: 80 });
  assert.deepEqual(parseCtlLine("1 2 2 3"), { type: 1, a: 2, b: 2 });
  assert.deepEqual(parseCtlLine("2 0 0"), { type: 2, a: 0, b: 0 });
  assert.deepEqual(parseCtlLine(" 1 +5 7x"), { type: 1, a: 5, b: 7 });
  assert.equal(parseCtlLine("1 24"), undefined);
  assert.equal(parseCtlLine("resize 24 80"), undefined);
  assert.equal(parseCtlLine("3 24 80"), undefined, "unknown type");
});

Deno.test("ctl and winsz: sizes outside 0..1000 are refused (negative, overflowing, huge)", () => {
  for (const [a, b] of [["-1", "80"], ["24", "-1"], ["1001", "80"], ["24", "4294967297"]]) {
    assert.equal(parseCtlLine(`1 ${a} ${b}`), undefined, `1 ${a} ${b}`);
    assert.equal(parseWinszLine(`${a} ${b}`), undefined, `${a} ${b}`);
  }
  assert.equal(parseCtlLine("2 -1 0"), undefined, "conmon main checks the size for every type");
  assert.equal(parseCtlLine("1 99999999999999999999999 80"), undefined);
  assert.deepEqual(parseCtlLine("1 1000 1000"), { type: 1, a: 1000, b: 1000 });
  assert.deepEqual(parseWinszLine("0 0"), { rows: 0, cols: 0 });
  assert.deepEqual(parseWinszLine("30 100 9"), { rows: 30, cols: 100 });
});

import assert from "node:assert/strict";
import { addDiagSink, diag, setDiagLevel } from "../src/diag.ts";

Deno.test("--log-level error, fatal, panic: errors alone are said, as conmon; other levels: warnings too", () => {
  const said: string[] = [];
  addDiagSink((m) => said.push(m));
  try {
    for (const level of ["error", "fatal", "panic"]) {
      setDiagLevel(level);
      diag(`warning at ${level}`);
      diag(`error at ${level}`, "error");
    }
    for (const level of ["warn", "warning", "info", "debug", "trace"]) {
      setDiagLevel(level);
      diag(`warning at ${level}`);
    }
  } finally {
    setDiagLevel("info");
  }
  assert.deepEqual(said, [
    "error at error",
    "error at fatal",
    "error at panic",
    "warning at warn",
    "warning at warning",
    "warning at info",
    "warning at debug",
    "warning at trace",
  ]);
});

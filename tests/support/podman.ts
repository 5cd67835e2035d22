/**
 * What the podman lanes (tests/podman, tests/systemd) share: podman's major version and
 * the OOM verdicts of a run of OOM-killed containers, judged as the monitor deserves.
 */
import assert from "node:assert/strict";
import { IS_CONMON } from "./env.ts";

/** podman's major version, from `podman --version` ("podman version 4.3.1"). */
export const PODMAN_MAJOR = Number(
  new TextDecoder().decode(new Deno.Command("podman", { args: ["--version"] }).outputSync().stdout)
    .match(/(\d+)\.\d+/)?.[1] ?? 0,
);

/**
 * conmon under podman 4 reports an OOM kill as OOMKilled=false: it writes its oom file
 * to its working directory, and podman 4 starts it elsewhere but reads BUNDLE/oom.
 */
export function conmonOomBroken(): boolean {
  return IS_CONMON && PODMAN_MAJOR < 5;
}

/**
 * Each of `results` ("{{.State.OOMKilled}} {{.State.ExitCode}}" of an OOM-killed
 * container) must be "true 137". Where conmon is known to get it wrong, its score is
 * recorded, not hidden, and the test fails once conmon gets them all right.
 */
export function assertOomVerdicts(results: string[]) {
  const right = results.filter((r) => r === "true 137").length;
  if (conmonOomBroken()) {
    console.log(`conmon: ${right}/${results.length} right (${results.join(", ")})`);
    assert(right < results.length, "conmon's known failure no longer happens: update this test");
    return;
  }
  assert.equal(right, results.length, results.join(", "));
}

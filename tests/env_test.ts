/**
 * src/env.ts: what ocimon reads from its environment, and what it hands on
 * (to the monitor it starts, to the runtime).
 */
import assert from "node:assert/strict";
import {
  ATTACH_PIPE_ENV,
  childEnvironment,
  LOG_FDS_ENV,
  MONITOR_ENV,
  monitorEnvironment,
  pipeFdFromEnv,
  SELF_ENV,
  START_PIPE_ENV,
  SYNC_PIPE_ENV,
  takeLogFds,
} from "../src/env.ts";

/** Runs `fn` with `vars` set (undefined: unset), then puts the environment back. */
function withEnv(vars: Record<string, string | undefined>, fn: () => void): void {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const put = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) Deno.env.delete(k);
      else Deno.env.set(k, val);
    }
  };
  put(vars);
  try {
    fn();
  } finally {
    put(before);
  }
}

Deno.test("a pipe variable: a descriptor number, nothing when unset or empty, an error otherwise", () => {
  withEnv({ [SYNC_PIPE_ENV]: "7" }, () => assert.equal(pipeFdFromEnv(SYNC_PIPE_ENV), 7));
  withEnv(
    { [SYNC_PIPE_ENV]: undefined },
    () => assert.equal(pipeFdFromEnv(SYNC_PIPE_ENV), undefined),
  );
  withEnv({ [SYNC_PIPE_ENV]: "" }, () => assert.equal(pipeFdFromEnv(SYNC_PIPE_ENV), undefined));
  for (const bad of ["x", "-1", "1.5"]) {
    withEnv({ [SYNC_PIPE_ENV]: bad }, () => {
      assert.throws(() => pipeFdFromEnv(SYNC_PIPE_ENV), new RegExp(`${SYNC_PIPE_ENV}=${bad} `));
    });
  }
});

Deno.test("the runtime's environment is ours less the caller's pipes and _OCIMON_ variables", () => {
  withEnv({
    [SYNC_PIPE_ENV]: "3",
    [START_PIPE_ENV]: "4",
    [ATTACH_PIPE_ENV]: "5",
    [SELF_ENV]: "/x/bin/ocimon",
    OCIMON_TEST_KEPT: "yes",
  }, () => {
    const env = childEnvironment();
    assert(env.includes("OCIMON_TEST_KEPT=yes"));
    assert.deepEqual(env.filter((kv) => kv.startsWith("_OCI")), []);
  });
});

Deno.test("the log descriptors reach the monitor and leave its environment once taken", () => {
  const handed = monitorEnvironment([5, 6]);
  assert(handed.includes(`${MONITOR_ENV}=1`));
  const entry = handed.find((kv) => kv.startsWith(`${LOG_FDS_ENV}=`))!;
  withEnv({ [LOG_FDS_ENV]: entry.slice(LOG_FDS_ENV.length + 1) }, () => {
    assert.deepEqual(takeLogFds(), [5, 6]);
    assert.equal(Deno.env.get(LOG_FDS_ENV), undefined);
    assert.equal(takeLogFds(), undefined);
  });
  withEnv({ [LOG_FDS_ENV]: "" }, () => assert.deepEqual(takeLogFds(), []));
});

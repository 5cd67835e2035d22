/**
 * src/oom/unit_record.ts against a real journald (scripts/with_journald.sh,
 * or the systemd VM): systemd's record of an OOM kill in a container's
 * unit, as systemd logs it (MESSAGE_ID and UNIT=, or USER_UNIT= for a
 * user's manager), sent here with `logger --journald`. The monitor reads it
 * only where the kernel's reports are closed to it (rootless) and the scope
 * was gone before its last read; the systemd lane's rootless OOM test runs
 * that end to end. Nothing of the monitor binary runs here: the
 * journald-conmon lane leaves this file out.
 */
import assert from "node:assert/strict";
import { run, sleep } from "../support/harness.ts";
import { UNIT_OOM_MESSAGE_ID, unitOomRecord } from "../../src/oom/unit_record.ts";

const UNIT_SUCCESS = "7ad2d189f7e94e70a38c781354912448";
const UNIT_STARTED = "39f53479d3a045ac8e11786248231fbf";

/** Sends one entry with these fields, as systemd would log it. */
async function log(fields: Record<string, string>) {
  const text = Object.entries({ MESSAGE: "test entry", ...fields })
    .map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
  const p = new Deno.Command("logger", { args: ["--journald"], stdin: "piped" }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  assert.equal((await p.status).code, 0, "logger --journald");
}

const nowUsec = () => BigInt(Date.now()) * 1000n;
let seq = 0;
const unitName = () => `libpod-${Deno.pid}${++seq}0123456789abcdef.scope`;

const t = (name: string, fn: () => Promise<void>) =>
  Deno.test(`systemd's record of a unit's OOM kill: ${name}`, fn);

t("a kill logged under UNIT= (the system manager) is found", async () => {
  const unit = unitName(), since = nowUsec();
  await log({ MESSAGE_ID: UNIT_STARTED, UNIT: unit });
  await log({ MESSAGE_ID: UNIT_OOM_MESSAGE_ID, UNIT: unit });
  await log({ MESSAGE_ID: UNIT_SUCCESS, UNIT: unit });
  assert.deepEqual(await unitOomRecord(unit, since, 5000), { killed: true, why: "logged" });
});

t("a kill logged under USER_UNIT= (a user's manager) is found", async () => {
  const unit = unitName(), since = nowUsec();
  await log({ MESSAGE_ID: UNIT_STARTED, USER_UNIT: unit });
  await log({ MESSAGE_ID: UNIT_OOM_MESSAGE_ID, USER_UNIT: unit });
  assert.deepEqual(await unitOomRecord(unit, since, 5000), { killed: true, why: "logged" });
});

t("the unit's end without a kill before it ends the wait at once", async () => {
  const unit = unitName(), since = nowUsec();
  await log({ MESSAGE_ID: UNIT_STARTED, UNIT: unit });
  await log({ MESSAGE_ID: UNIT_SUCCESS, UNIT: unit });
  await run(["journalctl", "--sync"]);
  const t0 = performance.now();
  const r = await unitOomRecord(unit, since, 30_000);
  assert.deepEqual(r, { killed: false, why: "unit ended without one" });
  assert(performance.now() - t0 < 10_000, "it did not wait for the timeout");
});

t("a neighbour's kill, and a kill before the container began, do not count", async () => {
  const unit = unitName(), other = unitName();
  await log({ MESSAGE_ID: UNIT_OOM_MESSAGE_ID, UNIT: unit }); // an earlier run of the same container
  await run(["journalctl", "--sync"]);
  await sleep(50);
  const since = nowUsec();
  await log({ MESSAGE_ID: UNIT_STARTED, UNIT: unit });
  await log({ MESSAGE_ID: UNIT_OOM_MESSAGE_ID, UNIT: other });
  await log({ MESSAGE_ID: UNIT_SUCCESS, UNIT: unit });
  assert.deepEqual(await unitOomRecord(unit, since, 5000), {
    killed: false,
    why: "unit ended without one",
  });
});

t("a kill still on its way to the journal is waited for", async () => {
  const unit = unitName(), since = nowUsec();
  await log({ MESSAGE_ID: UNIT_STARTED, UNIT: unit });
  await run(["journalctl", "--sync"]);
  const late = sleep(300).then(() => log({ MESSAGE_ID: UNIT_OOM_MESSAGE_ID, UNIT: unit }));
  const r = await unitOomRecord(unit, since, 10_000);
  await late;
  assert.deepEqual(r, { killed: true, why: "logged" });
});

t("no entry of the unit at all (a journal that does not show it): no wait, no kill", async () => {
  const t0 = performance.now();
  assert.deepEqual(await unitOomRecord(unitName(), nowUsec(), 30_000), {
    killed: false,
    why: "no entry of the unit",
  });
  assert(performance.now() - t0 < 10_000, "it did not wait for the timeout");
});

t("a unit with a start and nothing more: waited for, up to the timeout", async () => {
  const unit = unitName(), since = nowUsec();
  await log({ MESSAGE_ID: UNIT_STARTED, UNIT: unit });
  await run(["journalctl", "--sync"]);
  const t0 = performance.now();
  assert.deepEqual(await unitOomRecord(unit, since, 500), {
    killed: false,
    why: "none within the wait",
  });
  assert(performance.now() - t0 >= 450, "it waited");
});

/**
 * --syslog: why a monitor failed, in the journal (through /dev/log), as
 * conmon says it. Runs where journald_test.ts runs (a journald of its own,
 * or the systemd VM); OCIMON_BIN=/usr/bin/conmon is the control.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { launchMonitor, run, sleep } from "../support/harness.ts";
import { IS_CONMON, MONITOR_NAME } from "../support/env.ts";
import { OOM_ARGS } from "../support/bundle.ts";
import { OOM_KILL_MESSAGE_ID } from "../../src/oom/describe.ts";

/** The journal's records from the monitor about this container id. */
async function records(cid: string): Promise<Record<string, string>[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await run(["journalctl", "--sync"]);
    const r = await run(["journalctl", "--no-pager", "-o", "json", "-t", MONITOR_NAME]);
    const mine = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l))
      .filter((e) => String(e.MESSAGE).includes(cid.slice(0, 20)));
    if (mine.length > 0 || Date.now() > deadline) return mine;
    await sleep(100);
  }
}

Deno.test(`--syslog (${MONITOR_NAME}): a failed create is in the journal, with the container id`, async () => {
  const c = await launchMonitor({
    name: "syslog-create-fails",
    // No such program in the container: the runtime's create (or start) fails.
    args: ["/no/such/program"],
    drop: IS_CONMON ? ["--status-file"] : [],
    extra: ["--syslog"],
  });
  try {
    const msg = await c.sync.next();
    if (msg && Number(msg.data) > 0) {
      // runc reports a missing program at start: then the monitor says nothing.
      await c.start().catch(() => {});
    }
    const recs = await records(c.cid);
    assert(recs.length > 0, `no ${MONITOR_NAME} record for ${c.cid} in the journal`);
    const text = recs.map((e) => e.MESSAGE).join("\n");
    assert.match(text, new RegExp(`^${MONITOR_NAME} ${c.cid.slice(0, 20)} <`, "m"));
    assert(recs.some((e) => Number(e.PRIORITY) <= 4), `an error or warning: ${text}`);
    void join;
  } finally {
    await c.cleanup();
  }
});

Deno.test({
  name: `--syslog (${MONITOR_NAME}): an OOM kill is in the journal under ocimon's MESSAGE_ID` +
    (IS_CONMON ? " [skipped: conmon says nothing of an OOM kill in the journal]" : ""),
  ignore: IS_CONMON,
  async fn() {
    const c = await launchMonitor({
      name: "syslog-oom",
      args: OOM_ARGS,
      memoryLimit: 16 * 1024 * 1024,
      extra: ["--syslog"],
    });
    try {
      const pid = Number((await c.sync.next())?.data);
      await c.start();
      assert.equal(await c.exitCode(), "137");
      let entries: Record<string, string>[] = [];
      for (let i = 0; i < 50 && entries.length === 0; i++) {
        await run(["journalctl", "--sync"]);
        const r = await run([
          "journalctl",
          "--no-pager",
          "-o",
          "json",
          `MESSAGE_ID=${OOM_KILL_MESSAGE_ID}`,
          `CONTAINER_ID_FULL=${c.cid}`,
        ]);
        entries = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
        if (entries.length === 0) await sleep(100);
      }
      assert(entries.length >= 1, "no OOM kill entry in the journal");
      const e = entries.find((x) => Number(x.OCIMON_VICTIM_PID) === pid) ?? entries[0];
      assert.equal(e.SYSLOG_IDENTIFIER, "ocimon");
      assert.equal(e.CONTAINER_NAME, c.cid);
      assert.equal(e.OCIMON_VICTIM_COMM, "sh");
      assert.equal(Number(e.PRIORITY), 4);
      assert.match(
        e.MESSAGE,
        new RegExp(`^ocimon ${c.cid.slice(0, 20)} <warn>: OOM kill in container ${c.cid} \\(`),
      );
      assert.match(e.MESSAGE, /reached its limit of 16\.0 MiB$/);
    } finally {
      await c.cleanup();
    }
  },
});

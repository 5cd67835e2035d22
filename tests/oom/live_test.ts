/**
 * The reader and the parser together on a real OOM kill: a 16 MiB memory
 * cgroup on this machine (v1 or v2), `tail /dev/zero` in it, and the
 * kernel's report read back from /dev/kmsg.
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { KmsgReader } from "../../src/oom/kmsg.ts";
import { type OomKillReport, OomReportParser, reportsInCgroup } from "../../src/oom/oom_report.ts";
import { sleep } from "../support/harness.ts";
import { MonitorCgroup } from "../support/monitor_cgroup.ts";

Deno.test("a real OOM kill in a 16 MiB cgroup is read back from /dev/kmsg and found by its cgroup", async () => {
  const cg = new MonitorCgroup("kmsg-live", 16 << 20);
  const path = "/" + basename(cg.dir);
  const reader = KmsgReader.open();
  assert.equal(typeof reader, "object", String(reader));
  const r = reader as KmsgReader;
  try {
    const child = new Deno.Command(cg.wrap("/usr/bin/tail"), {
      args: ["/dev/zero"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
    assert.equal(cg.oomKills(), 1);

    // The kill line is logged right after the kill: look until it is there.
    const parser = new OomReportParser();
    const reports: OomKillReport[] = [];
    for (let i = 0; i < 100; i++) {
      const { records } = r.read();
      records.forEach((rec) => parser.push(rec));
      reports.push(...parser.take());
      if (records.some((rec) => rec.message.includes(`Killed process ${child.pid} (`))) break;
      await sleep(20);
    }
    reports.push(...parser.flush());

    const ours = reportsInCgroup(reports, path);
    assert.equal(ours.length, 1, JSON.stringify(reports));
    const [report] = ours;
    assert.equal(report.taskMemcg, path);
    assert.equal(report.oomMemcg, path);
    assert.equal(report.globalOom, false);
    assert.equal(report.limitKb, 16384);
    assert.equal(report.victims.length, 1);
    assert.equal(report.victims[0].pid, child.pid);
    assert.equal(report.victims[0].comm, "tail");
    assert.ok(report.victims[0].anonRssKb! > 8192, JSON.stringify(report.victims[0]));
    assert.deepEqual(reportsInCgroup(reports, path + "x"), []);
    assert.deepEqual(reportsInCgroup(reports, path.slice(0, -1)), []);
  } finally {
    r.close();
    await cg.remove();
  }
});

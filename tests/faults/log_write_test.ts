/**
 * A log that cannot be written must cost the log, never the container or its
 * exit code: the log on a full device (/dev/full) and on a full tmpfs, with a
 * container that writes more than its output pipe holds and then exits.
 * Each check runs against ocimon and against conmon 2.1.6 as the control
 * (conmon drops what it cannot write, keeps reading and resumes).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  launchMonitor,
  type MonitoredContainer,
  type MonitorOptions,
  run,
  sleep,
} from "../support/harness.ts";
import { CONMON, OCIMON_BIN, RUNTIME } from "../support/env.ts";
import { records } from "../support/k8s_log.ts";

const MONITORS: [string, string][] = [["ocimon", OCIMON_BIN], ["conmon", CONMON]];
/** More than the output pipe holds (ocimon asks for 256 KiB; conmon has the default 64 KiB). */
const FLOOD = "yes aaaaaaaaaaaaaaa | head -c 1048576; yes bbbbbbbbbbbbbbb | head -c 1048576 >&2";

function launchWith(bin: string, opts: MonitorOptions): Promise<MonitoredContainer> {
  const drop = ["--log-path", ...(bin === CONMON ? ["--status-file"] : [])];
  return launchMonitor({ ...opts, bin, drop });
}

/** A /dev/full of the test's own (the host's /dev may lack one): every write is ENOSPC. */
function fullDevice(dir: string): string {
  const path = join(dir, "full");
  const r = new Deno.Command("mknod", { args: [path, "c", "1", "7"] }).outputSync();
  if (!r.success) throw new Error(`mknod: ${new TextDecoder().decode(r.stderr)}`);
  return path;
}

const ENDINGS: [string, string, string][] = [
  ["exits 3", "exit 3", "3"],
  ["exits 9", "exit 9", "9"],
  ["is SIGKILLed", "exec sleep 60", "137"],
];

for (const [monitor, bin] of MONITORS) {
  for (const [what, ending, code] of ENDINGS) {
    Deno.test(`[${monitor}] log on /dev/full: a flooding container that ${what} reports ${code}`, async () => {
      const dir = Deno.makeTempDirSync();
      const c = await launchWith(bin, {
        name: "devfull",
        args: ["sh", "-c", `${FLOOD}; ${ending}`],
        extra: ["--log-path", `k8s-file:${fullDevice(dir)}`],
      });
      try {
        assert.equal(c.launcher.code, 0, c.launcherStderr);
        await c.sync.next();
        await c.start();
        if (code === "137") {
          // Once the flood is through (it is only if the monitor keeps reading).
          await waitForProcess(c, "sleep 60");
          await run([RUNTIME, "kill", c.cid, "KILL"]);
        }
        assert.equal(await c.exitCode(15_000), code);
      } finally {
        await c.cleanup();
        Deno.removeSync(dir, { recursive: true });
      }
    });
  }

  Deno.test(`[${monitor}] log on a tmpfs that fills up: no torn record, exit 3 reported, logging resumes once there is room`, async () => {
    const dir = Deno.makeTempDirSync();
    const mnt = join(dir, "mnt");
    Deno.mkdirSync(mnt);
    await mustRun(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt]);
    try {
      const filler = join(mnt, "filler");
      fill(filler);
      // Room for a few records: the log fills up in the middle of a write.
      Deno.truncateSync(filler, Deno.statSync(filler).size - 10_000);
      const c = await launchWith(bin, {
        name: "fulltmpfs",
        args: ["sh", "-c", `${FLOOD}; sleep 3; echo resumed; exit 3`],
        extra: ["--log-path", `k8s-file:${join(mnt, "ctr.log")}`],
      });
      try {
        assert.equal(c.launcher.code, 0, c.launcherStderr);
        await c.sync.next();
        await c.start();
        await waitForProcess(c, "sleep 3"); // the flood is through: the monitor kept reading
        Deno.removeSync(filler);
        assert.equal(await c.exitCode(15_000), "3");
        // Every line whole (a record the disk cut short is taken back), the first
        // records kept, and the last line logged after the room came back.
        const log = records(Deno.readTextFileSync(join(mnt, "ctr.log")));
        assert.deepEqual(log[0], ["stdout", "F", "aaaaaaaaaaaaaaa"]);
        assert.deepEqual(log.at(-1), ["stdout", "F", "resumed"]);
      } finally {
        await c.cleanup();
      }
    } finally {
      await run(["umount", "-l", mnt]);
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

/** Fills the filesystem holding `path` to the last byte. */
function fill(path: string): void {
  const f = Deno.openSync(path, { write: true, create: true });
  const block = new Uint8Array(4096);
  try {
    for (;;) f.writeSync(block);
  } catch (err) {
    if (!(err instanceof Error) || !/No space left/.test(err.message)) throw err;
  }
  try {
    for (;;) if (f.writeSync(block.subarray(0, 1)) === 0) break;
  } catch { /* full to the byte */ }
  f.close();
}

async function mustRun(cmd: string[]): Promise<void> {
  const r = await run(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr}`);
}

/** Waits until the container runs a process whose command line is `cmd`. */
async function waitForProcess(c: MonitoredContainer, cmd: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ps = await run([RUNTIME, "ps", c.cid]);
    if (ps.stdout.split("\n").some((l) => l.trimEnd().endsWith(` ${cmd}`))) return;
    if (Date.now() > deadline) {
      throw new Error(`no '${cmd}' in ${c.cid} after ${ms} ms: ${ps.stdout}`);
    }
    await sleep(50);
  }
}

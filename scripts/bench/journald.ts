/**
 * Log throughput to the journal (-l journald): entries per second until the
 * exit file, the monitor's CPU, how many entries the journal kept, and the
 * length of the monitor's command line (journald stores it with every
 * entry). Needs a running journald: bench.sh starts one of its own
 * (scripts/with_journald.sh) where none runs.
 *
 * @module
 */
import { join } from "node:path";
import { makeBundle } from "../../tests/support/bundle.ts";
import { exists, run } from "../../tests/support/harness.ts";
import { alternate, pick } from "./alternate.ts";
import { addBindMount, addRow, type Bench, monitorArgs, runOne, startToExit } from "./context.ts";

/**
 * The exit command podman 4.3 passes its monitor (its cleanup call), paths
 * and id of the same length, with /bin/true in podman's place (the monitor
 * runs it at exit: it must touch nothing). It matters to the journald figures: journald
 * stores the sender's command line with every entry, compressed from 512
 * bytes on, and finding that compressed field again costs it about a third
 * of its speed (measured with libsystemd from C: 51.7k entries/s with a
 * 100-byte command line, 33.8k from 560 bytes). Under podman both monitors
 * are well past that; without these arguments conmon's command line was
 * just under it and ocimon's (with "deno run ..." in front) just over.
 */
const PODMAN_EXIT_COMMAND = [
  "--exit-command",
  "/bin/true",
  ...[
    ["--root", "/var/lib/containers/storage"],
    ["--runroot", "/run/containers/storage"],
    ["--log-level", "warning"],
    ["--cgroup-manager", "systemd"],
    ["--tmpdir", "/run/libpod"],
    ["--network-config-dir", ""],
    ["--network-backend", "netavark"],
    ["--volumepath", "/var/lib/containers/storage/volumes"],
    ["--runtime", "runc"],
    ["--storage-driver", "overlay"],
    ["--events-backend", "journald"],
    ["container", "cleanup", "0".repeat(64)],
  ].flat().flatMap((a) => ["--exit-command-arg", a]),
];

export async function journald(b: Bench) {
  if (!exists("/run/systemd/journal/socket")) {
    throw new Error("no journald: run `deno task bench --only journald` (it starts one)");
  }
  const lines = b.quick ? 50_000 : 200_000;
  const data = join(b.work, "jdata");
  Deno.mkdirSync(data, { recursive: true });
  const file = join(data, "lines.txt");
  const line = "x".repeat(99) + "\n";
  Deno.writeTextFileSync(file, line.repeat(lines));
  const rounds = b.quick ? 1 : 3;
  const runs = await alternate(rounds, async (m, i) => {
    const bundle = makeBundle(b.work, `jd-${m.name}-${i}`, { args: ["cat", "/data/lines.txt"] });
    addBindMount(bundle, data, "/data");
    const c = await runOne(b, m, "journald-bench", [], {
      bundle,
      drop: [...(monitorArgs(m.name).drop ?? []), "--log-path"],
      extra: ["--full-attach", "--log-path", "journald:", ...PODMAN_EXIT_COMMAND],
    });
    try {
      await c.sync.next();
      const cmdline = Deno.readFileSync(`/proc/${c.monitorPid()}/cmdline`).length;
      const timed = await startToExit(c);
      await run(["journalctl", "--sync"]);
      const n = await run([
        "sh",
        "-c",
        `journalctl -o json --output-fields=PRIORITY CONTAINER_ID_FULL=${c.cid} | wc -l`,
      ]);
      return { ...timed, cmdline, kept: Number(n.stdout.trim()) };
    } finally {
      await c.cleanup();
    }
  });
  const secs = pick(runs, (r) => r.secs);
  const what = `${lines} lines of 100 B (-l journald), until the exit file`;
  addRow(b, "journald throughput", what, "s", secs);
  addRow(b, "journald throughput", "entries/s", "1/s", {
    ocimon: secs.ocimon.map((x) => lines / x),
    conmon: secs.conmon.map((x) => lines / x),
  }, "≥ conmon");
  addRow(b, "journald throughput", "monitor CPU", "s", pick(runs, (r) => r.cpu));
  addRow(
    b,
    "journald throughput",
    `entries in the journal (of ${lines})`,
    "",
    pick(runs, (r) => r.kept),
    "all",
  );
  addRow(
    b,
    "journald throughput",
    "monitor's command line (journald's _CMDLINE)",
    "B",
    pick(runs, (r) => r.cmdline),
  );
}

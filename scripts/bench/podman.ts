/**
 * The lifecycle through podman: `podman run --rm /bin/true` with each
 * monitor as `--conmon`, the bare process start podman adds for every
 * command (`MONITOR --version`), and the floor those starts put under
 * ocimon's figure.
 *
 * @module
 */
import { alternate } from "./alternate.ts";
import { addRow, type Bench, figure, versionAndBareRows } from "./context.ts";
import { median } from "./report.ts";
import { benchPodman } from "./podman_cmd.ts";

export async function podman(b: Bench) {
  const n = b.quick ? 4 : 10;
  const podman = benchPodman(b);
  const run = await alternate(n, async (m) => {
    const t0 = performance.now();
    const r = await podman(m.bin, [
      "run",
      "--rm",
      "--network",
      "none",
      "--rootfs",
      b.rootfs,
      "/bin/true",
    ]);
    if (r.code !== 0) {
      console.error(`${m.name}: podman run failed: ${new TextDecoder().decode(r.stderr)}`);
      return undefined;
    }
    return performance.now() - t0;
  });
  addRow(b, "lifecycle (podman)", "podman run --rm /bin/true", "ms", run, "≤ floor × 1.03");

  // podman runs `MONITOR --version` for every command; a bare Deno start (a
  // no-op script with bin/ocimon's flags) is taken in the same alternation.
  const { bare, version } = await versionAndBareRows(b, "lifecycle (podman)", n * 2);

  // What no ocimon code can go below: a `podman run` starts three ocimon
  // processes (--version, launcher, monitor) where it starts three conmon,
  // each a bare Deno start where conmon's is its --version (issue 20's floor).
  const conmonRun = median(run.conmon);
  const floor = conmonRun + 3 * (median(bare) - median(version.conmon));
  b.rows.push({
    section: "lifecycle (podman)",
    what: "floor: conmon's run + 3 × (bare Deno start − conmon --version)",
    unit: "ms",
    ocimon: { median: floor, p10: floor, p90: floor, n: 1 },
    conmon: figure(run.conmon),
  });
}

/**
 * podman as the bench runs it: storage and configuration of the run's own
 * (vfs, cgroupfs, no network), the monitor given as `--conmon`.
 *
 * @module
 */
import { join } from "node:path";
import { RUNTIME } from "../../tests/support/env.ts";
import type { Bench } from "./context.ts";

export type Podman = (monitor: string, args: string[]) => Promise<Deno.CommandOutput>;

/** A podman of the run's own; its storage is under the run's directory. */
export function benchPodman(b: Bench): Podman {
  const conf = join(b.work, "containers.conf");
  Deno.writeTextFileSync(
    conf,
    `[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n` +
      `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "${
        RUNTIME.split("/").pop()
      }"\n` +
      `[network]\nnetwork_config_dir = "${join(b.work, "net")}"\n`,
  );
  return (monitor, args) =>
    new Deno.Command("podman", {
      args: [
        "--root",
        join(b.work, "pr"),
        "--runroot",
        join(b.work, "rr"),
        "--storage-driver",
        "vfs",
        "--conmon",
        monitor,
        ...args,
      ],
      env: { CONTAINERS_CONF: conf },
      stdout: "piped",
      stderr: "piped",
    }).output();
}

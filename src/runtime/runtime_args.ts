/**
 * The OCI runtime's command lines, as conmon builds them for runc and crun.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";

/**
 * `RUNTIME [--systemd-cgroup] [runtime-args] create --bundle B --pid-file P
 * [--no-pivot] [--no-new-keyring] [runtime-opts] [--console-socket S] CID`,
 * in conmon's order (src/runtime_args.c). -s puts --systemd-cgroup first,
 * for create (and restore) only, as conmon: an exec joins the container's
 * cgroup whatever the manager.
 */
export function createArgv(cfg: Config, consoleSocket?: string): string[] {
  return containerArgv(cfg, "create", [], consoleSocket);
}

/**
 * `--restore DIR`, as conmon: `RUNTIME [--systemd-cgroup] [runtime-args]
 * restore --bundle B --pid-file P [--no-pivot] [--no-new-keyring] --detach
 * --image-path DIR --work-path B [runtime-opts] [--console-socket S] CID`.
 * --detach: the runtime returns once the container runs (there is no
 * `start` after a restore); CRIU works and logs in the bundle. podman passes
 * --tcp-established, --tcp-close, --file-locks and the LSM labels as
 * --runtime-opt. The runtime's exit is judged as create's.
 */
export function restoreArgv(cfg: Config, consoleSocket?: string): string[] {
  if (cfg.restore === undefined) throw new Error("restoreArgv: no --restore");
  const detach = ["--detach", "--image-path", cfg.restore, "--work-path", cfg.bundle];
  return containerArgv(cfg, "restore", detach, consoleSocket);
}

function containerArgv(
  cfg: Config,
  command: "create" | "restore",
  extra: string[],
  consoleSocket: string | undefined,
): string[] {
  return [
    cfg.runtime,
    ...(cfg.systemdCgroup ? ["--systemd-cgroup"] : []),
    ...cfg.runtimeArgs,
    command,
    "--bundle",
    cfg.bundle,
    "--pid-file",
    cfg.containerPidfile,
    ...(cfg.noPivot ? ["--no-pivot"] : []),
    ...(cfg.noNewKeyring ? ["--no-new-keyring"] : []),
    ...extra,
    ...ownPreserveFds(cfg),
    ...cfg.runtimeOpts,
    ...(consoleSocket ? ["--console-socket", consoleSocket] : []),
    cfg.cid,
  ];
}

/** ocimon's own --preserve-fds N (conmon has none: podman passes it as a --runtime-opt). */
function ownPreserveFds(cfg: Config): string[] {
  return cfg.preserveFds > 0 ? ["--preserve-fds", String(cfg.preserveFds)] : [];
}

/**
 * `RUNTIME [runtime-args] exec --pid-file P --process SPEC --detach [--tty]
 * [runtime-opts] [--console-socket S] CID`, as conmon 2.1.6 (main no longer
 * passes --tty: the process spec says terminal).
 */
export function execArgv(cfg: Config, consoleSocket?: string): string[] {
  return [
    cfg.runtime,
    ...cfg.runtimeArgs,
    "exec",
    "--pid-file",
    cfg.containerPidfile,
    "--process",
    cfg.execProcessSpec!,
    "--detach",
    ...(consoleSocket ? ["--tty"] : []),
    ...ownPreserveFds(cfg),
    ...cfg.runtimeOpts,
    ...(consoleSocket ? ["--console-socket", consoleSocket] : []),
    cfg.cid,
  ];
}

/** `RUNTIME [runtime-args] start CID`: what the caller (or `ocimon run`) does. */
export function startArgv(runtime: string, runtimeArgs: string[], cid: string): string[] {
  return [runtime, ...runtimeArgs, "start", cid];
}

/** `RUNTIME [runtime-args] delete --force CID`. */
export function deleteArgv(runtime: string, runtimeArgs: string[], cid: string): string[] {
  return [runtime, ...runtimeArgs, "delete", "--force", cid];
}

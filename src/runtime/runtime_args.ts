/**
 * The OCI runtime's command lines, as conmon builds them for runc and crun.
 *
 * @module
 */
import type { Config } from "../cli/config.ts";

/**
 * `RUNTIME [--systemd-cgroup] [runtime-args] create --bundle B --pid-file P [...] CID`.
 * -s puts --systemd-cgroup first, for create only, as conmon: an exec joins
 * the container's cgroup whatever the manager.
 */
export function createArgv(cfg: Config, consoleSocket?: string): string[] {
  return [
    cfg.runtime,
    ...(cfg.systemdCgroup ? ["--systemd-cgroup"] : []),
    ...cfg.runtimeArgs,
    "create",
    "--bundle",
    cfg.bundle,
    "--pid-file",
    cfg.containerPidfile,
    ...(cfg.noPivot ? ["--no-pivot"] : []),
    ...(cfg.noNewKeyring ? ["--no-new-keyring"] : []),
    ...(consoleSocket ? ["--console-socket", consoleSocket] : []),
    ...(cfg.preserveFds > 0 ? ["--preserve-fds", String(cfg.preserveFds)] : []),
    ...cfg.runtimeOpts,
    cfg.cid,
  ];
}

/** `RUNTIME [runtime-args] exec --pid-file P --process SPEC --detach [...] CID`. */
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
    ...(consoleSocket ? ["--tty", "--console-socket", consoleSocket] : []),
    ...(cfg.preserveFds > 0 ? ["--preserve-fds", String(cfg.preserveFds)] : []),
    ...cfg.runtimeOpts,
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

/**
 * Builds OCI bundles around busybox-static for tests, the demo and the
 * benchmarks: one shared read-only rootfs, one small config.json per
 * container.
 *
 * @module
 */
import { join } from "node:path";

const BUSYBOX = "/bin/busybox";
const APPLETS = [
  "sh",
  "echo",
  "sleep",
  "cat",
  "tail",
  "head",
  "true",
  "false",
  "yes",
  "dd",
  "kill",
  "stty",
  "ls",
  "env",
  "trap",
  "seq",
  "wc",
  "id",
  "tty",
];

/** A rootfs with busybox and its applet links; built once per directory. */
export function ensureRootfs(dir: string): string {
  const rootfs = join(dir, "rootfs");
  try {
    Deno.statSync(join(rootfs, "bin", "busybox"));
    return rootfs;
  } catch { /* build it */ }
  for (const d of ["bin", "proc", "dev", "sys", "tmp", "etc"]) {
    Deno.mkdirSync(join(rootfs, d), { recursive: true });
  }
  Deno.copyFileSync(BUSYBOX, join(rootfs, "bin", "busybox"));
  Deno.chmodSync(join(rootfs, "bin", "busybox"), 0o755);
  for (const a of APPLETS) Deno.symlinkSync("busybox", join(rootfs, "bin", a));
  Deno.writeTextFileSync(join(rootfs, "etc", "passwd"), "root:x:0:0:root:/:/bin/sh\n");
  return rootfs;
}

export interface BundleOptions {
  args: string[];
  /** Memory limit in bytes (swap limited to the same). */
  memoryLimit?: number;
  /** cgroupsPath for the runtime (default /ocimon-test/<name>). */
  cgroupsPath?: string;
  terminal?: boolean;
  env?: string[];
  /** Extra linux.resources.unified entries (cgroup v2). */
  unified?: Record<string, string>;
  /** Give the container its own pid namespace (default true). Without one,
   * its process is not an init and dies of signals like any other. */
  pidNamespace?: boolean;
}

/** Writes BASE/NAME/config.json using the shared rootfs under BASE. */
export function makeBundle(base: string, name: string, opts: BundleOptions): string {
  const rootfs = ensureRootfs(base);
  const bundle = join(base, name);
  Deno.mkdirSync(bundle, { recursive: true });
  const resources: Record<string, unknown> = {};
  if (opts.memoryLimit) {
    resources.memory = { limit: opts.memoryLimit, swap: opts.memoryLimit };
  }
  if (opts.unified) resources.unified = opts.unified;
  const config = {
    ociVersion: "1.0.2",
    process: {
      terminal: opts.terminal ?? false,
      user: { uid: 0, gid: 0 },
      args: opts.args,
      env: ["PATH=/bin", "HOME=/", ...(opts.env ?? [])],
      cwd: "/",
      noNewPrivileges: true,
      capabilities: Object.fromEntries(
        ["bounding", "effective", "permitted"].map((
          k,
        ) => [k, ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]]),
      ),
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    },
    root: { path: rootfs, readonly: true },
    hostname: name,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      {
        destination: "/sys",
        type: "sysfs",
        source: "sysfs",
        options: ["nosuid", "noexec", "nodev", "ro"],
      },
      {
        destination: "/tmp",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "nodev", "mode=1777"],
      },
    ],
    linux: {
      cgroupsPath: opts.cgroupsPath ?? `/ocimon-test/${name}`,
      resources,
      namespaces: [
        ...(opts.pidNamespace === false ? [] : ["pid"]),
        "ipc",
        "uts",
        "mount",
        "network",
      ]
        .map((type) => ({ type })),
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
      readonlyPaths: ["/proc/sys", "/proc/sysrq-trigger"],
    },
  };
  Deno.writeTextFileSync(join(bundle, "config.json"), JSON.stringify(config, null, 2));
  return bundle;
}

/** A shell loop that doubles a string until the memory limit kills it. */
export const OOM_ARGS = ["sh", "-c", "x=0123456789abcdef; while :; do x=$x$x; done"];

/**
 * podman's --memory for OOM_ARGS: 32 MiB, not less. runc 1.1.12 and later
 * copy their own binary into a memfd inside the container's cgroup while
 * `runc init` waits for start (about 8 MiB of shmem): under 16 MiB that
 * copy was OOM-killed before start in 1 of 8 runs on Debian 13 (runc
 * 1.1.15), with conmon 2.1.12 as with ocimon ("cannot start a container
 * that has stopped"). The OOM verdict does not depend on the limit.
 */
export const PODMAN_OOM_MEMORY = "32m";

if (import.meta.main) {
  const [base, name, ...args] = Deno.args;
  if (!base || !name || args.length === 0) {
    console.error("usage: bundle.ts BASE NAME [--memory BYTES] -- ARGS...");
    Deno.exit(1);
  }
  let memoryLimit: number | undefined;
  const dd = args.indexOf("--");
  if (args[0] === "--memory") memoryLimit = Number(args[1]);
  console.log(makeBundle(base, name, { args: args.slice(dd + 1), memoryLimit }));
}

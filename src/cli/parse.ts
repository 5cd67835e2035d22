/**
 * Parses and validates conmon's command line into a Config. Validation runs
 * before anything is created, so bad input costs nothing but a message.
 *
 * @module
 */
import { isAbsolute, join, resolve } from "../util/path.ts";
import { OPTIONS, type OptionSpec } from "./options.ts";
import type { Config, LogDriver } from "./config.ts";

/** Bad command-line input: the message names the option at fault. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type ParseResult =
  | { action: "help" }
  | { action: "version" }
  | { action: "monitor"; config: Config };

const LOG_LEVELS = [
  "trace",
  "debug",
  "info",
  "warn",
  "warning",
  "error",
  "fatal",
  "panic",
];

/** glib's G_OPTION_ARG_INT range. */
const INT_MAX = 2 ** 31 - 1;

type Values = Record<string, string | boolean | string[] | undefined>;

/** Parses argv (without the program name) as conmon would. */
export function parseCommandLine(
  argv: readonly string[],
  cwd = Deno.cwd(),
): ParseResult {
  const values = parseRaw(argv);
  if (values.help) return { action: "help" };
  if (values.version) return { action: "version" };
  return { action: "monitor", config: buildConfig(values, cwd) };
}

/**
 * Tokenises argv with glib's rules, which podman relies on: an option that
 * takes a value takes the next argument whatever it looks like
 * (`--exit-command-arg --root`), `--name=value` works too, short booleans
 * group (`-it`), and a short option's value may be attached (`-cID`).
 */
export function parseRaw(argv: readonly string[]): Values {
  const byName = new Map(OPTIONS.map((o) => [o.name, o]));
  const byShort = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));
  const values: Values = {};
  const set = (o: OptionSpec, value: string | boolean) => {
    if (o.kind === "strings") {
      const prev = values[o.name];
      values[o.name] = [...(Array.isArray(prev) ? prev : []), value as string];
    } else {
      values[o.name] = value;
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument '${argv[i + 1]}'`);
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const o = byName.get(name);
      if (!o) throw new UsageError(`unknown option --${name}`);
      if (o.kind === "bool") {
        if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
        set(o, true);
      } else if (o.kind === "optional-int" && eq < 0) {
        set(o, /^\d+$/.test(argv[i + 1] ?? "") ? argv[++i] : "1");
      } else if (eq >= 0) {
        set(o, arg.slice(eq + 1));
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
        set(o, argv[++i]);
      }
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const o = byShort.get(arg[j]);
        if (!o) throw new UsageError(`unknown option -${arg[j]}`);
        if (o.kind === "bool") {
          set(o, true);
          continue;
        }
        const attached = arg.slice(j + 1);
        if (attached) set(o, attached);
        else if (i + 1 < argv.length) set(o, argv[++i]);
        else throw new UsageError(`option -${o.short} (--${o.name}) needs a value`);
        break;
      }
      continue;
    }
    throw new UsageError(`unexpected argument '${arg}'`);
  }
  return values;
}

function str(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === "string" ? x : undefined;
}

function list(v: Values, name: string): string[] {
  const x = v[name];
  return Array.isArray(x) ? x : [];
}

/** A whole decimal integer, as glib's option parser requires. */
export function parseInteger(
  name: string,
  raw: string | undefined,
  def: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return def;
  if (!/^[+-]?\d+$/.test(raw.trim())) {
    throw new UsageError(`option --${name}: '${raw}' is not a whole number`);
  }
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(`option --${name}: '${raw}' is out of range`);
  }
  if (n < min) throw new UsageError(`option --${name}: ${n} is below ${min}`);
  if (n > max) throw new UsageError(`option --${name}: ${n} is out of range (at most ${max})`);
  return n;
}

/** Ids become file names (exit file, attach dir): no '/', '.', '..' or empty. */
export function checkSafeName(option: string, value: string): string {
  if (
    value === "" || value === "." || value === ".." || value.includes("/") ||
    value.includes("\0")
  ) {
    throw new UsageError(
      `option --${option}: '${value}' is not a safe file name`,
    );
  }
  return value;
}

/**
 * One --log-path value, with conmon's grammar: `DRIVER:PATH`, or a bare
 * `DRIVER` or path. Drivers: `k8s-file` (needs a path), `journald`,
 * `passthrough`, and `none`/`off`/`null` (no log). `:PATH` and a bare word
 * that names no driver are k8s-file paths. Unlike conmon, an absolute path
 * is a path even if it holds a colon (conmon would take `/a:b` for a driver).
 */
export function parseLogDriver(raw: string, cwd: string): LogDriver {
  if (/^:*$/.test(raw)) throw new UsageError("option --log-path: the value must not be empty");
  const file = (path: string): LogDriver => ({ kind: "k8s-file", path: resolve(cwd, path) });
  if (raw.startsWith("/")) return file(raw);
  if (raw.startsWith(":")) return file(raw.replace(/^:+/, ""));
  const colon = raw.indexOf(":");
  const driver = colon < 0 ? raw : raw.slice(0, colon);
  const path = colon < 0 ? "" : raw.slice(colon + 1);
  switch (driver) {
    case "none":
    case "off":
    case "null":
      return { kind: "none" };
    case "passthrough":
      return { kind: "passthrough" };
    case "journald":
      return { kind: "journald" };
    case "k8s-file":
      if (path === "") {
        throw new UsageError("option --log-path: k8s-file requires a filename (k8s-file:PATH)");
      }
      return file(path);
  }
  if (colon < 0) return file(raw);
  throw new UsageError(
    `option --log-path: unknown log driver '${driver}' (k8s-file, journald, passthrough, none)`,
  );
}

/** journald field names, as conmon checks them: uppercase letters, digits, '_'. */
const LOG_LABEL = /^[A-Z0-9_]+=[^=]*$/;

interface LogOptions {
  logDrivers: LogDriver[];
  logTag?: string;
  logLabels: string[];
  logMaxFiles: number;
  logRotate: boolean;
}

/** The rules conmon applies to the log options taken together. */
function checkLogOptions(o: LogOptions, cid: string): void {
  if (o.logDrivers.length === 0) {
    throw new UsageError(
      "option --log-path is required: name a log driver (k8s-file:PATH, journald:, " +
        "passthrough: or none:)",
    );
  }
  const kinds = new Set(o.logDrivers.map((d) => d.kind));
  if (kinds.has("k8s-file") && !kinds.has("journald")) {
    if (o.logTag !== undefined) {
      throw new UsageError(
        "option --log-tag: the k8s-file log has no tags; only journald uses one",
      );
    }
    if (o.logLabels.length > 0) {
      throw new UsageError(
        "option --log-label: the k8s-file log has no labels; only journald uses them",
      );
    }
  }
  if (kinds.has("journald")) {
    if (cid.length <= 12) {
      throw new UsageError(
        `option --log-path: the journald driver needs a container id longer than 12 characters ('${cid}')`,
      );
    }
    for (const label of o.logLabels) {
      if (!LOG_LABEL.test(label)) {
        throw new UsageError(
          `option --log-label: '${label}' is not KEY=VALUE with one '=' and a KEY of ` +
            "uppercase letters, digits and '_'",
        );
      }
    }
  }
  if (o.logRotate && o.logMaxFiles === 0) {
    throw new UsageError("option --log-max-files: must be at least 1 with --log-rotate");
  }
}

function isExecutableFile(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && st.mode !== null && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * --exec-attach, as conmon: only for an exec of API version 1 or later, and
 * only with the attach pipe (_OCI_ATTACHPIPE) to tell the caller we listen.
 */
function checkExecAttach(v: Values, exec: boolean): void {
  if (!exec) throw new UsageError("option --exec-attach can only be used with --exec");
  if (parseInteger("api-version", str(v, "api-version"), 0) < 1) {
    throw new UsageError(
      "option --exec-attach can only be used for a non-legacy exec session (--api-version 1)",
    );
  }
  const pipe = Deno.env.get("_OCI_ATTACHPIPE");
  if (pipe === undefined || !/^\d+$/.test(pipe)) {
    throw new UsageError(
      "option --exec-attach needs the attach pipe's fd number in _OCI_ATTACHPIPE",
    );
  }
}

function buildConfig(v: Values, cwd: string): Config {
  const exec = v.exec === true;
  if (v["exec-attach"] === true) checkExecAttach(v, exec);
  const cid = str(v, "cid");
  if (cid === undefined) {
    throw new UsageError("option --cid is required (container ID)");
  }
  checkSafeName("cid", cid);
  const cuuid = str(v, "cuuid");
  if (cuuid === undefined && !exec) {
    throw new UsageError(
      "option --cuuid is required (container UUID) unless --exec",
    );
  }
  if (cuuid !== undefined) checkSafeName("cuuid", cuuid);

  const runtime = str(v, "runtime");
  if (runtime === undefined) {
    throw new UsageError("option --runtime is required (path to runc or crun)");
  }
  // As conmon (access(X_OK)), a relative name is taken from the working
  // directory; stricter only in refusing what could never be executed.
  const runtimePath = resolve(cwd, runtime);
  if (!isExecutableFile(runtimePath)) {
    throw new UsageError(
      `option --runtime: ${runtimePath} is not an executable file`,
    );
  }

  // An exec without --bundle (CRI-O's ExecSync) gets no attach endpoints.
  const bundleEndpoints = !exec || str(v, "bundle") !== undefined;
  const bundle = resolve(cwd, str(v, "bundle") ?? cwd);
  if (!isDirectory(bundle)) {
    throw new UsageError(`option --bundle: ${bundle} is not a directory`);
  }
  if (!exec) {
    try {
      Deno.statSync(join(bundle, "config.json"));
    } catch {
      throw new UsageError(`option --bundle: ${bundle} has no config.json`);
    }
  }

  const execProcessSpec = str(v, "exec-process-spec");
  if (exec && execProcessSpec === undefined) {
    throw new UsageError("option --exec-process-spec is required with --exec");
  }
  if (execProcessSpec !== undefined) {
    try {
      Deno.statSync(resolve(cwd, execProcessSpec));
    } catch {
      throw new UsageError(
        `option --exec-process-spec: ${execProcessSpec} does not exist`,
      );
    }
  }

  const logLevel = (str(v, "log-level") ?? "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(
      `option --log-level: '${logLevel}' is not one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  const logOptions: LogOptions = {
    logDrivers: list(v, "log-path").map((p) => parseLogDriver(p, cwd)),
    logTag: str(v, "log-tag"),
    logLabels: list(v, "log-label"),
    logMaxFiles: parseInteger("log-max-files", str(v, "log-max-files"), 1, 0, INT_MAX),
    logRotate: v["log-rotate"] === true,
  };
  checkLogOptions(logOptions, cid);

  for (const dirOpt of ["exit-dir", "persist-dir", "socket-dir-path"]) {
    const d = str(v, dirOpt);
    if (d !== undefined && d === "") {
      throw new UsageError(`option --${dirOpt} needs a non-empty path`);
    }
  }
  const exitDir = str(v, "exit-dir");
  if (exitDir !== undefined && !isDirectory(resolve(cwd, exitDir))) {
    throw new UsageError(`option --exit-dir: ${exitDir} is not a directory`);
  }

  const exitCommand = str(v, "exit-command");
  if (
    exitCommand !== undefined && !isExecutableFile(resolve(cwd, exitCommand))
  ) {
    throw new UsageError(
      `option --exit-command: ${exitCommand} is not an executable file`,
    );
  }
  const statusFile = str(v, "status-file");
  if (statusFile === "") {
    throw new UsageError("option --status-file needs a non-empty path");
  }
  const cgroup = str(v, "cgroup");
  if (cgroup !== undefined && !isAbsolute(cgroup)) {
    throw new UsageError(
      `option --cgroup: '${cgroup}' must be an absolute cgroup directory path`,
    );
  }

  const pidfile = str(v, "container-pidfile") ?? str(v, "pidfile");
  const opt = (name: string) => {
    const x = str(v, name);
    return x === undefined ? undefined : resolve(cwd, x);
  };

  return {
    cid,
    cuuid,
    name: str(v, "name"),
    runtime: runtimePath,
    bundle,
    bundleEndpoints,
    containerPidfile: pidfile ? resolve(cwd, pidfile) : join(bundle, `pidfile-${cid}`),
    conmonPidfile: opt("conmon-pidfile"),
    exitDir: opt("exit-dir"),
    persistDir: opt("persist-dir"),
    statusFile: opt("status-file"),
    cgroup,
    ...logOptions,
    logSizeMax: parseInteger("log-size-max", str(v, "log-size-max"), -1, -1),
    logGlobalSizeMax: parseInteger("log-global-size-max", str(v, "log-global-size-max"), -1, -1),
    logAllowlistDirs: list(v, "log-allowlist-dir").filter((d) => d !== "").map((d) =>
      resolve(cwd, d)
    ),
    noContainerPartialMessage: v["no-container-partial-message"] === true,
    logLevel,
    runtimeArgs: list(v, "runtime-arg"),
    runtimeOpts: list(v, "runtime-opt"),
    exitCommand: opt("exit-command"),
    exitCommandArgs: list(v, "exit-command-arg"),
    exitDelay: parseInteger("exit-delay", str(v, "exit-delay"), 0),
    apiVersion: parseInteger("api-version", str(v, "api-version"), 0),
    sync: v.sync === true,
    timeout: parseInteger("timeout", str(v, "timeout"), 0),
    stdin: v.stdin === true,
    leaveStdinOpen: v["leave-stdin-open"] === true,
    terminal: v.terminal === true,
    noPivot: v["no-pivot"] === true,
    noNewKeyring: v["no-new-keyring"] === true,
    systemdCgroup: v["systemd-cgroup"] === true,
    fullAttach: v["full-attach"] === true,
    socketDirPath: opt("socket-dir-path"),
    exec,
    execAttach: v["exec-attach"] === true,
    execProcessSpec: execProcessSpec ? resolve(cwd, execProcessSpec) : undefined,
    preserveFds: parseInteger("preserve-fds", str(v, "preserve-fds"), 0),
    sdnotifySocket: checkNotifySocket(str(v, "sdnotify-socket")),
    syslog: v.syslog === true,
  };
}

/** A unix socket address: a path, or "@name" in the abstract namespace. */
function checkNotifySocket(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  if (path === "" || path === "@") {
    throw new UsageError("option --sdnotify-socket needs a socket path");
  }
  if (new TextEncoder().encode(path).length > 107) {
    throw new UsageError(
      `option --sdnotify-socket: '${path}' is too long for a unix socket address (107 bytes at most)`,
    );
  }
  return path;
}

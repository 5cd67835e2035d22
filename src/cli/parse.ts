/**
 * Parses and validates conmon's command line into a Config. Validation runs
 * before anything is created, so bad input costs nothing but a message.
 * Where conmon refuses an input, the message is conmon's, word for word, and
 * the checks come in conmon's order (tools and tests match its words); what
 * only ocimon checks is said in ocimon's words.
 *
 * @module
 */
import { isAbsolute, join, resolve } from "../util/path.ts";
import { accessProblem, X_OK } from "../sys/access.ts";
import { attachPipeValue } from "../env.ts";
import { OPTIONS, type OptionSpec } from "./options.ts";
import type { Config, LogDriver } from "./config.ts";

/**
 * Bad command-line input: the message names the problem (conmon's words
 * where conmon has them); the hint, if any, is ocimon's own second line.
 */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** glib's words for a command line it cannot parse. */
const PARSE_FAILED = "option parsing failed: ";

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

type Values = Record<string, string | boolean | string[] | undefined>;

/** Where parseRaw notes a refused option it met (not an option name). */
const REFUSED = "\0refused";

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
  // An alias shares its target's values, in the order given (as glib does
  // for two options on one variable): the last single value wins.
  const set = (o: OptionSpec, value: string | boolean) => {
    // glib reads numbers as it meets them: the first bad one is the one named.
    if (o.kind === "int" || o.kind === "optional-int") parseInteger(o.name, value as string, 0);
    if (o.kind === "int64") parseInteger(o.name, value as string, 0, INT64);
    const key = o.alias ?? o.name;
    if (o.kind === "strings") {
      const prev = values[key];
      values[key] = [...(Array.isArray(prev) ? prev : []), value as string];
    } else {
      values[key] = value;
    }
    if (o.refused) values[REFUSED] = o.name;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      if (i + 1 < argv.length) {
        throw new UsageError(`unexpected argument '${argv[i + 1]}'`, HELP_HINT);
      }
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const o = byName.get(name);
      if (!o) throw new UsageError(`${PARSE_FAILED}Unknown option ${arg}`, HELP_HINT);
      if (o.kind === "bool") {
        // glib takes `--sync=0` as --sync; ocimon will not guess.
        if (eq >= 0) throw new UsageError(`option --${name} takes no value`, HELP_HINT);
        set(o, true);
      } else if (o.kind === "optional-int" && eq < 0) {
        set(o, /^\d+$/.test(argv[i + 1] ?? "") ? argv[++i] : "1");
      } else if (eq >= 0) {
        set(o, arg.slice(eq + 1));
      } else {
        if (i + 1 >= argv.length) {
          throw new UsageError(`${PARSE_FAILED}Missing argument for --${name}`, HELP_HINT);
        }
        set(o, argv[++i]);
      }
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const o = byShort.get(arg[j]);
        if (!o) throw new UsageError(`${PARSE_FAILED}Unknown option -${arg[j]}`, HELP_HINT);
        if (o.kind === "bool") {
          set(o, true);
          continue;
        }
        const attached = arg.slice(j + 1);
        if (attached) set(o, attached);
        else if (i + 1 < argv.length) set(o, argv[++i]);
        else {
          throw new UsageError(`${PARSE_FAILED}Missing argument for -${o.short}`, HELP_HINT);
        }
        break;
      }
      continue;
    }
    // conmon (glib) leaves such an argument unread; ocimon says so.
    throw new UsageError(`unexpected argument '${arg}'`, HELP_HINT);
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

/** The ranges of glib's G_OPTION_ARG_INT (a C int) and G_OPTION_ARG_INT64. */
export const INT = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
export const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/**
 * strtol(s, &end, 0), as glib reads an integer option: leading white space,
 * a sign, then hex after 0x, octal after 0, decimal otherwise. Returns the
 * value and how many characters were used (0 if none could be).
 */
export function strtolBase0(s: string): { value: bigint; used: number } {
  let i = 0;
  while (i < s.length && " \t\n\v\f\r".includes(s[i])) i++;
  const negative = s[i] === "-";
  if (s[i] === "+" || s[i] === "-") i++;
  let digits = /[0-9]/, prefix = "";
  if (
    s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") && /[0-9a-fA-F]/.test(s[i + 2] ?? "")
  ) {
    i += 2;
    digits = /[0-9a-fA-F]/;
    prefix = "0x";
  } else if (s[i] === "0") {
    digits = /[0-7]/;
    prefix = "0o";
  }
  const start = i;
  while (i < s.length && digits.test(s[i])) i++;
  if (i === start) return { value: 0n, used: 0 };
  const value = BigInt(prefix + s.slice(start, i));
  return { value: negative ? -value : value, used: i };
}

/**
 * An integer option, read and range-checked as glib does (strtol base 0,
 * a C int or int64), refused in glib's words.
 */
export function parseInteger(
  name: string,
  raw: string | undefined,
  def: number,
  range: { min: bigint; max: bigint } = INT,
): number {
  if (raw === undefined) return def;
  const { value, used } = strtolBase0(raw);
  if (raw === "" || used !== raw.length) {
    throw new UsageError(
      `${PARSE_FAILED}Cannot parse integer value “${raw}” for --${name}`,
      HELP_HINT,
    );
  }
  if (value < range.min || value > range.max) {
    throw new UsageError(
      `${PARSE_FAILED}Integer value “${raw}” for --${name} out of range`,
      HELP_HINT,
    );
  }
  // int64 values past 2^53 lose precision; as byte counts they are "no limit" anyway.
  return Number(value);
}

/**
 * Ids become file names (exit file, attach dir): no '/', '.', '..' or empty.
 * ocimon's own check (conmon would write outside its directories).
 */
export function checkSafeName(option: string, value: string): string {
  if (
    value === "" || value === "." || value === ".." || value.includes("/") ||
    value.includes("\0")
  ) {
    throw new UsageError(
      `option --${option}: '${value}' is not a safe file name`,
      "(the ids name the exit file and the attach directory: no '/', '.', '..' or empty)",
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
  if (/^:*$/.test(raw)) throw new UsageError("log-path must not be empty", LOG_PATH_HINT);
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
      if (path === "") throw new UsageError("k8s-file requires a filename", LOG_PATH_HINT);
      return file(path);
  }
  if (colon < 0) return file(raw);
  throw new UsageError(`No such log driver ${driver}`, LOG_PATH_HINT);
}

const LOG_PATH_HINT =
  "(--log-path: k8s-file:PATH, :PATH or PATH, journald:, passthrough:, none:, off: or null:)";

/** journald field names, as conmon checks them: uppercase letters, digits, '_'. */
const LOG_LABEL_NAME = /^[A-Z0-9_]*=/;

interface LogOptions {
  logDrivers: LogDriver[];
  logTag?: string;
  logLabels: string[];
  logMaxFiles: number;
  logRotate: boolean;
}

/**
 * The rules conmon applies to the log options taken together, in its order
 * and words (the log file itself is opened later, by the launcher).
 */
function checkLogOptions(o: LogOptions, cid: string): void {
  if (o.logDrivers.length === 0) {
    throw new UsageError("Log driver not provided. Use --log-path", LOG_PATH_HINT);
  }
  const kinds = new Set(o.logDrivers.map((d) => d.kind));
  if (kinds.has("k8s-file") && !kinds.has("journald")) {
    const only = "(only the journald log driver uses it)";
    if (o.logTag !== undefined) throw new UsageError("k8s-file doesn't support --log-tag", only);
    if (o.logLabels.length > 0) {
      throw new UsageError("k8s-file doesn't support --log-label", only);
    }
  }
  if (kinds.has("journald")) {
    if (cid.length <= 12) {
      throw new UsageError(
        "Container ID must be longer than 12 characters",
        `(the journald log driver takes its first 12 for CONTAINER_ID; --cid is '${cid}')`,
      );
    }
    for (const label of o.logLabels) {
      if (label.startsWith("=")) {
        throw new UsageError(
          `Container labels must be in format LABEL=VALUE (no LABEL present in '${label}')`,
        );
      }
      if (label.split("=").length !== 2) {
        throw new UsageError(
          "Container labels must be in format LABEL=VALUE (none or more than one '=' present " +
            `in '${label}')`,
        );
      }
      if (!LOG_LABEL_NAME.test(label)) {
        throw new UsageError(
          "Container label names must contain only uppercase letters, numbers and underscore " +
            `(in '${label}')`,
        );
      }
    }
  }
}

/** For --exit-command, which conmon only runs at the end: ocimon checks it first. */
function isExecutableFile(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && st.mode !== null && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Whether `path` (symlinks followed) leads to something. */
function statable(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
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

/** The second line of a refusal that names no option of its own. */
const HELP_HINT = "Try 'ocimon --help' for the list of options.";

/** conmon's log levels (any case): error, fatal and panic say only what ends it. */
function checkLogLevel(raw: string | undefined): string {
  const level = (raw ?? "info").toLowerCase();
  if (!LOG_LEVELS.includes(level)) {
    throw new UsageError(`No such log level ${raw}`, `(--log-level: ${LOG_LEVELS.join(", ")})`);
  }
  return level;
}

/** What conmon's checks establish, in conmon's order (src/cli.c, then src/ctr_logging.c). */
interface Checked {
  cid: string;
  cuuid?: string;
  runtimePath: string;
  logLevel: string;
  exec: boolean;
  execAttach: boolean;
  restore?: string;
  apiVersion: number;
  execProcessSpec?: string;
  exitDelay: number;
  logOptions: LogOptions;
}

function buildConfig(v: Values, cwd: string): Config {
  const refused = v[REFUSED];
  if (typeof refused === "string") {
    const o = OPTIONS.find((x) => x.name === refused)!;
    throw new UsageError(`option --${o.name}: ${o.refused}`);
  }
  const c = conmonChecks(v, cwd);
  // ocimon's own checks: what conmon would find out later, or never.
  checkSafeName("cid", c.cid);
  if (c.cuuid !== undefined) checkSafeName("cuuid", c.cuuid);
  const bundle = checkBundle(v, cwd);
  checkPaths(v, cwd, c);
  return assemble(v, cwd, c, bundle);
}

/** conmon's checks, in its order: the first problem conmon names is the one said. */
function conmonChecks(v: Values, cwd: string): Checked {
  const logMaxFiles = parseInteger("log-max-files", str(v, "log-max-files"), 1);
  const logRotate = v["log-rotate"] === true;
  if (logMaxFiles < 0) {
    throw new UsageError(`log-max-files must be non-negative, got ${logMaxFiles}`);
  }
  if (logRotate && logMaxFiles === 0) {
    throw new UsageError(
      `log-max-files must be at least 1 when log-rotate is enabled, got ${logMaxFiles}`,
    );
  }
  const cid = str(v, "cid");
  if (cid === undefined) {
    throw new UsageError("Container ID not provided. Use --cid", "(--cid: the container ID)");
  }
  const logLevel = checkLogLevel(str(v, "log-level"));
  const mode = checkExecMode(v);
  const cuuid = str(v, "cuuid");
  // The legacy exec API (before --api-version 1) had no UUID.
  if (cuuid === undefined && (!mode.exec || mode.apiVersion >= 1)) {
    throw new UsageError(
      "Container UUID not provided. Use --cuuid",
      "(--cuuid: the container UUID, which names its attach directory)",
    );
  }
  const runtimePath = checkRuntime(str(v, "runtime"), cwd);
  const execProcessSpec = str(v, "exec-process-spec");
  if (mode.exec && execProcessSpec === undefined) {
    throw new UsageError("Exec process spec path not provided. Use --exec-process-spec");
  }
  const exitDelay = parseInteger("exit-delay", str(v, "exit-delay"), 0);
  if (exitDelay < 0) {
    throw new UsageError("Delay before invoking exit command must be greater than or equal to 0");
  }
  const logOptions: LogOptions = {
    logDrivers: list(v, "log-path").map((p) => parseLogDriver(p, cwd)),
    logTag: str(v, "log-tag"),
    logLabels: list(v, "log-label"),
    logMaxFiles,
    logRotate,
  };
  checkLogOptions(logOptions, cid);
  return { cid, cuuid, runtimePath, logLevel, ...mode, execProcessSpec, exitDelay, logOptions };
}

/** --exec, --exec-attach, --restore and --api-version, as conmon checks them together. */
function checkExecMode(v: Values): Pick<Checked, "exec" | "execAttach" | "restore" | "apiVersion"> {
  const exec = v.exec === true;
  const execAttach = v["exec-attach"] === true;
  const restore = str(v, "restore");
  const apiVersion = parseInteger("api-version", str(v, "api-version"), 0);
  if (restore !== undefined && exec) {
    throw new UsageError("Cannot use 'exec' and 'restore' at the same time");
  }
  if (execAttach && !exec) {
    throw new UsageError("Attach can only be specified with exec", "(--exec-attach needs --exec)");
  }
  if (execAttach && apiVersion < 1) {
    throw new UsageError(
      "Attach can only be specified for a non-legacy exec session",
      "(--exec-attach needs --api-version 1)",
    );
  }
  return { exec, execAttach, restore, apiVersion };
}

/**
 * As conmon: access(X_OK), a relative path taken from the working
 * directory; what passes but cannot run (a directory) fails at create,
 * reported on the sync pipe.
 */
function checkRuntime(runtime: string | undefined, cwd: string): string {
  if (runtime === undefined) {
    throw new UsageError(
      "Runtime path not provided. Use --runtime",
      "(--runtime: the OCI runtime, runc or crun)",
    );
  }
  const runtimePath = resolve(cwd, runtime);
  const runtimeProblem = accessProblem(runtimePath, X_OK);
  if (runtimeProblem) {
    throw new UsageError(`Runtime path ${runtime} is not valid: ${runtimeProblem}`);
  }
  return runtimePath;
}

/**
 * The bundle's content is the runtime's to judge (its error reaches the
 * caller on the sync pipe, as with conmon); but the monitor works in the
 * bundle, so it must be a directory (conmon exits 1 there, saying nothing).
 */
function checkBundle(v: Values, cwd: string): string {
  const bundle = resolve(cwd, str(v, "bundle") ?? cwd);
  if (!isDirectory(bundle)) {
    throw new UsageError(`option --bundle: ${bundle} is not a directory`);
  }
  return bundle;
}

/** The paths and values conmon finds out about later, or never. */
function checkPaths(v: Values, cwd: string, c: Checked): void {
  if (c.execProcessSpec !== undefined && !statable(resolve(cwd, c.execProcessSpec))) {
    throw new UsageError(`option --exec-process-spec: ${c.execProcessSpec} does not exist`);
  }
  for (const dirOpt of ["exit-dir", "persist-dir", "socket-dir-path"]) {
    if (str(v, dirOpt) === "") throw new UsageError(`option --${dirOpt} needs a non-empty path`);
  }
  const exitDir = str(v, "exit-dir");
  if (exitDir !== undefined && !isDirectory(resolve(cwd, exitDir))) {
    throw new UsageError(`option --exit-dir: ${exitDir} is not a directory`);
  }
  const exitCommand = str(v, "exit-command");
  if (exitCommand !== undefined && !isExecutableFile(resolve(cwd, exitCommand))) {
    throw new UsageError(`option --exit-command: ${exitCommand} is not an executable file`);
  }
  if (str(v, "status-file") === "") {
    throw new UsageError("option --status-file needs a non-empty path");
  }
  const cgroup = str(v, "cgroup");
  if (cgroup !== undefined && !isAbsolute(cgroup)) {
    throw new UsageError(`option --cgroup: '${cgroup}' must be an absolute cgroup directory path`);
  }
  const preserveFds = parseInteger("preserve-fds", str(v, "preserve-fds"), 0);
  if (preserveFds < 0) {
    throw new UsageError(`option --preserve-fds: ${preserveFds} is below 0`);
  }
  if (c.restore === "") throw new UsageError("option --restore needs the checkpoint's directory");
  // conmon finds out after its launcher has returned (a daemon that exits 1).
  const pipe = attachPipeValue();
  if (c.execAttach && (pipe === undefined || !/^\d+$/.test(pipe))) {
    throw new UsageError(
      "--attach specified but _OCI_ATTACHPIPE was not",
      "(--exec-attach needs the attach pipe's fd number in _OCI_ATTACHPIPE)",
    );
  }
}

/** The Config from checked values: nothing here can fail. */
function assemble(v: Values, cwd: string, c: Checked, bundle: string): Config {
  const pidfile = str(v, "container-pidfile"); // --pidfile too, its alias
  const opt = (name: string) => {
    const x = str(v, name);
    return x === undefined ? undefined : resolve(cwd, x);
  };
  return {
    cid: c.cid,
    cuuid: c.cuuid,
    name: str(v, "name"),
    runtime: c.runtimePath,
    bundle,
    // An exec without --bundle (CRI-O's ExecSync) gets no attach endpoints.
    bundleEndpoints: !c.exec || str(v, "bundle") !== undefined,
    containerPidfile: pidfile ? resolve(cwd, pidfile) : join(bundle, `pidfile-${c.cid}`),
    conmonPidfile: opt("conmon-pidfile"),
    exitDir: opt("exit-dir"),
    persistDir: opt("persist-dir"),
    statusFile: opt("status-file"),
    cgroup: str(v, "cgroup"),
    ...c.logOptions,
    // As conmon: 0 or less is no limit.
    logSizeMax: parseInteger("log-size-max", str(v, "log-size-max"), -1, INT64),
    logGlobalSizeMax: parseInteger("log-global-size-max", str(v, "log-global-size-max"), -1, INT64),
    logAllowlistDirs: list(v, "log-allowlist-dir").filter((d) => d !== "").map((d) =>
      resolve(cwd, d)
    ),
    noContainerPartialMessage: v["no-container-partial-message"] === true,
    logLevel: c.logLevel,
    runtimeArgs: list(v, "runtime-arg"),
    runtimeOpts: list(v, "runtime-opt"),
    exitCommand: opt("exit-command"),
    exitCommandArgs: list(v, "exit-command-arg"),
    exitDelay: c.exitDelay,
    apiVersion: c.apiVersion,
    sync: v.sync === true,
    // As conmon: 0 or less is no timeout.
    timeout: Math.max(0, parseInteger("timeout", str(v, "timeout"), 0)),
    stdin: v.stdin === true,
    leaveStdinOpen: v["leave-stdin-open"] === true,
    terminal: v.terminal === true,
    noPivot: v["no-pivot"] === true,
    noNewKeyring: v["no-new-keyring"] === true,
    systemdCgroup: v["systemd-cgroup"] === true,
    fullAttach: v["full-attach"] === true,
    socketDirPath: opt("socket-dir-path"),
    exec: c.exec,
    execAttach: c.execAttach,
    execProcessSpec: c.execProcessSpec ? resolve(cwd, c.execProcessSpec) : undefined,
    restore: c.restore === undefined ? undefined : resolve(cwd, c.restore),
    replaceListenPid: v["replace-listen-pid"] === true,
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

/**
 * What conmon warns of but goes on with, in its words: said once, by the
 * launcher, unless --log-level asks for errors only.
 */
export function configWarnings(cfg: Config): string[] {
  const warnings: string[] = [];
  if (["error", "fatal", "panic"].includes(cfg.logLevel)) return warnings;
  if (cfg.noContainerPartialMessage && !cfg.logDrivers.some((d) => d.kind === "journald")) {
    warnings.push("--no-container-partial-message has no effect without journald log driver");
  }
  return warnings;
}

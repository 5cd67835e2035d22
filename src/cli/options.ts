/**
 * The command line: conmon's option names, short forms and meanings, plus
 * ocimon's own. One table drives parsing and `--help`.
 *
 * @module
 */

/**
 * "int" is a C int, "int64" a 64-bit one, as glib reads them.
 * "optional-int" is conmon's --api-version: a flag (API 1) after which podman
 * writes the number as a separate argument, `--api-version 1`, that conmon
 * ignores. A following whole number is taken as the version.
 */
export type OptionKind = "string" | "strings" | "int" | "int64" | "optional-int" | "bool";

export interface OptionSpec {
  name: string;
  short?: string;
  kind: OptionKind;
  help: string;
  /** Another name for the option `alias` (its values go there, in order). */
  alias?: string;
  /**
   * An option of conmon's that ocimon refuses: the one line said when it is
   * given (and shown in --help).
   */
  refused?: string;
  /** ocimon's own option, not conmon's. */
  own?: boolean;
}

/**
 * conmon 2.1.6 exits 1 on either option (its notify code was unreachable in
 * distribution builds), and conmon main removed them.
 */
const SECCOMP_NOTIFY_REFUSED = "seccomp notification is not supported: conmon never ran it " +
  "(2.1.x exits 1) and removed the option; run the container without it";

export const OPTIONS: readonly OptionSpec[] = [
  {
    name: "api-version",
    kind: "optional-int",
    help: "Conmon API version to speak on the sync pipe (podman passes 1)",
  },
  {
    name: "bundle",
    short: "b",
    kind: "string",
    help: "Location of the OCI bundle (default: the working directory)",
  },
  { name: "cid", short: "c", kind: "string", help: "Container ID (required)" },
  {
    name: "conmon-pidfile",
    short: "P",
    kind: "string",
    help: "File to write the monitor's own pid to",
  },
  {
    name: "container-pidfile",
    short: "p",
    kind: "string",
    help: "File the runtime writes the container pid to (default: BUNDLE/pidfile-CID)",
  },
  {
    name: "cuuid",
    short: "u",
    kind: "string",
    help: "Container UUID (required unless --exec)",
  },
  {
    name: "exec",
    short: "e",
    kind: "bool",
    help: "Exec a process in a running container",
  },
  {
    name: "exec-attach",
    kind: "bool",
    help: "Attach to an exec session (with --exec, --api-version 1 and _OCI_ATTACHPIPE)",
  },
  {
    name: "exec-process-spec",
    kind: "string",
    help: "Path to the process spec of the exec session",
  },
  {
    name: "exit-command",
    kind: "string",
    help: "Program to run after the container exits",
  },
  {
    name: "exit-command-arg",
    kind: "strings",
    help: "Argument for the exit command (repeatable)",
  },
  {
    name: "exit-delay",
    kind: "int",
    help: "Seconds to wait before running the exit command",
  },
  {
    name: "exit-dir",
    kind: "string",
    help: "Directory where the exit file CID is written",
  },
  {
    name: "full-attach",
    kind: "bool",
    help: "Do not shorten the attach socket path",
  },
  {
    name: "leave-stdin-open",
    kind: "bool",
    help: "Keep container stdin open when the last attach client leaves",
  },
  {
    name: "log-allowlist-dir",
    kind: "strings",
    help: "Refuse k8s-file logs outside this directory, symlinks resolved (repeatable)",
  },
  {
    name: "log-global-size-max",
    kind: "int64",
    help: "Stop logging once a log has had this many bytes written in all",
  },
  {
    name: "log-label",
    kind: "strings",
    help: "journald: add the field KEY=VALUE to each entry (repeatable)",
  },
  {
    name: "log-level",
    kind: "string",
    help: "Monitor log level: trace, debug, info, warn, error, fatal, panic",
  },
  {
    name: "log-max-files",
    kind: "int",
    help: "With --log-rotate: how many old logs to keep (default 1)",
  },
  {
    name: "log-path",
    short: "l",
    kind: "strings",
    help: "Log driver (required, repeatable): k8s-file:PATH, PATH, journald:, " +
      "passthrough:, none: (or off:, null:)",
  },
  {
    name: "log-rotate",
    kind: "bool",
    help: "At --log-size-max, rotate the log to PATH.1, PATH.2, ... instead of truncating",
  },
  {
    name: "log-size-max",
    kind: "int64",
    help: "Start the k8s-file log over when it would grow past this many bytes",
  },
  {
    name: "log-tag",
    kind: "string",
    help: "journald: tag for log entries (refused with only k8s-file logs)",
  },
  { name: "name", short: "n", kind: "string", help: "Container name" },
  {
    name: "no-new-keyring",
    kind: "bool",
    help: "Pass --no-new-keyring to the runtime",
  },
  {
    name: "no-container-partial-message",
    kind: "bool",
    help: "journald: do not mark partial lines CONTAINER_PARTIAL_MESSAGE=true",
  },
  { name: "no-pivot", kind: "bool", help: "Pass --no-pivot to the runtime" },
  {
    name: "no-sync-log",
    kind: "bool",
    help: "Do not fsync the logs when the container exits (ocimon never fsyncs them: " +
      "the option changes nothing)",
  },
  {
    name: "persist-dir",
    short: "0",
    kind: "string",
    help: "Directory for the persistent exit and oom files",
  },
  {
    name: "pidfile",
    kind: "string",
    alias: "container-pidfile",
    help: "Alias of --container-pidfile (deprecated)",
  },
  {
    name: "preserve-fds",
    kind: "int",
    own: true,
    help: "Pass --preserve-fds N to the runtime: inherited fds 3 to N+2 reach the container " +
      "(podman passes --runtime-opt --preserve-fds --runtime-opt N)",
  },
  {
    name: "replace-listen-pid",
    kind: "bool",
    help: "Socket activation: if LISTEN_PID is set, the runtime gets its own pid there " +
      "(without this option, only when LISTEN_PID is the monitor's pid)",
  },
  {
    name: "restore",
    kind: "string",
    help: "Restore the container from the checkpoint in this directory " +
      "(`runtime restore --detach --image-path DIR`) instead of creating it",
  },
  {
    name: "restore-arg",
    kind: "strings",
    alias: "runtime-opt",
    help: "Alias of --runtime-opt (deprecated)",
  },
  {
    name: "runtime",
    short: "r",
    kind: "string",
    help: "Path to the OCI runtime (required)",
  },
  {
    name: "runtime-arg",
    kind: "strings",
    help: "Argument for the runtime, before the command (repeatable)",
  },
  {
    name: "runtime-opt",
    kind: "strings",
    help: "Option for the runtime's create, restore or exec command, after it (repeatable)",
  },
  {
    name: "sdnotify-socket",
    kind: "string",
    help:
      "Relay the container's sd_notify messages (from BUNDLE/notify/notify.sock) to this socket",
  },
  {
    name: "seccomp-notify-socket",
    kind: "string",
    help: "Seccomp notify socket path",
    refused: SECCOMP_NOTIFY_REFUSED,
  },
  {
    name: "seccomp-notify-plugins",
    kind: "string",
    help: "Seccomp notify plugins",
    refused: SECCOMP_NOTIFY_REFUSED,
  },
  {
    name: "socket-dir-path",
    kind: "string",
    help: "Directory for the attach socket",
  },
  {
    name: "stdin",
    short: "i",
    kind: "bool",
    help: "Open a pipe for the container's stdin",
  },
  {
    name: "sync",
    kind: "bool",
    help: "Do not daemonize: stay the child of the caller",
  },
  {
    name: "syslog",
    kind: "bool",
    help: "Also send the monitor's own diagnostics to syslog (the journal)",
  },
  {
    name: "systemd-cgroup",
    short: "s",
    kind: "bool",
    help: "Pass --systemd-cgroup to `runtime create` (systemd cgroup manager)",
  },
  {
    name: "terminal",
    short: "t",
    kind: "bool",
    help: "Allocate a pseudo-terminal for the container",
  },
  {
    name: "timeout",
    short: "T",
    kind: "int",
    help: "Kill the container after this many seconds",
  },
  { name: "version", kind: "bool", help: "Print the version and exit" },
  { name: "help", short: "h", kind: "bool", help: "Show this help and exit" },
  {
    name: "status-file",
    kind: "string",
    own: true,
    help: "Write the JSON status of the finished container here",
  },
  {
    name: "cgroup",
    kind: "string",
    own: true,
    help: "Join this cgroup directory (created if needed) before any other work",
  },
];

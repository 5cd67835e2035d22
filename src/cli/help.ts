/**
 * `--help` and `--version` text, generated from the option table.
 *
 * @module
 */
import { OPTIONS } from "./options.ts";

export const VERSION = "0.1.0";
/** The conmon release whose command line and files ocimon follows. */
export const CONMON_COMPAT = "2.1.6";

/**
 * podman reads the first line as `conmon version X.Y.Z` and refuses a
 * monitor whose output does not match, so that line names the conmon
 * release whose contract ocimon follows.
 */
export function versionText(): string {
  return `conmon version ${CONMON_COMPAT}\ncommit: ocimon-${VERSION}\nocimon version ${VERSION}\n`;
}

export function helpText(): string {
  const lines = [
    "Usage:",
    "  ocimon [OPTION…]            monitor one container, as conmon does",
    "  ocimon run BUNDLE [--runtime PATH] [--status-file PATH]",
    "                              run a bundle in the foreground and summarise its exit",
    "",
    "Options:",
  ];
  for (const o of OPTIONS) {
    const short = o.short ? `-${o.short}, ` : "    ";
    const arg = o.kind === "bool"
      ? ""
      : o.kind === "int" || o.kind === "int64"
      ? " N"
      : o.kind === "optional-int"
      ? " [N]"
      : " VALUE";
    const flag = `  ${short}--${o.name}${arg}`;
    const note = o.refused ? " [refused: not supported]" : o.own ? " [ocimon]" : "";
    lines.push(`${flag.padEnd(36)} ${o.help}${note}`);
  }
  return lines.join("\n") + "\n";
}

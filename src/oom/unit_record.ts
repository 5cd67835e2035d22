/**
 * systemd's record of an OOM kill in a container's unit, from the journal.
 *
 * The evidence of last resort, for a monitor that cannot read the kernel's
 * reports (rootless: /dev/kmsg is closed to it) when systemd removed the
 * container's empty scope before the monitor read its counters. systemd
 * reads the same counter before it removes the cgroup (the unit's
 * `memory.events` `oom_kill`, for the scope and what is below it) and logs
 * "A process of this unit has been killed by the OOM killer" under
 * MESSAGE_ID fe6faa94e7774663a0da52717891d8ef, with the unit's name in
 * `UNIT=` (the system manager) or `USER_UNIT=` (a user's manager, whose
 * entries its user may read). A scope podman or CRI-O makes for a
 * container is named after the container's id (libpod-ID.scope,
 * crio-ID.scope), so the record names the container, never a neighbour;
 * only entries logged since the container started count, so a restarted
 * container's earlier kills do not.
 *
 * systemd logs the kill before the unit's end (its OOM checks run before
 * its empty-cgroup checks), so the unit's end ("Deactivated successfully",
 * "Unit failed", "Consumed …", the stop job's end) without a kill before it
 * means no record: the wait ends there, or at its timeout. A journal with no
 * entry of the unit at all since `since` (not even its start: the journal
 * is volatile, or the user may not read it) ends it at once.
 *
 * @module
 */
import { JournalReader } from "../sys/journal_reader.ts";

/** systemd's SD_MESSAGE_UNIT_OUT_OF_MEMORY. */
export const UNIT_OOM_MESSAGE_ID = "fe6faa94e7774663a0da52717891d8ef";

/** What systemd logs once a unit has ended: success, failure, resources, stop job done. */
const UNIT_END_MESSAGE_IDS = new Set([
  "7ad2d189f7e94e70a38c781354912448",
  "d9b373ed55a64feb8242e02dbe79a49c",
  "ae8f7b866b0347b9af31fe1c80b127c0",
  "9d1aaa27d60140bd96365438aad20286",
]);

/**
 * The systemd unit of a container's cgroup: the innermost component of
 * `cgroupPath` that names a scope or a service and contains the container's
 * id `cid` (crun's `libpod-ID.scope/container` belongs to its scope). None
 * otherwise: a unit that does not name the container (a pod's slice, a
 * user's service) also holds others.
 */
export function containerUnit(cgroupPath: string, cid: string): string | undefined {
  if (cid === "") return undefined;
  const parts = cgroupPath.split("/").filter((p) => p !== "");
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i];
    if (/\.(scope|service)$/.test(p)) return p.includes(cid) ? p : undefined;
  }
  return undefined;
}

/** What the journal says of a unit's OOM kills since a time. */
export interface UnitOomRecord {
  /** True when systemd logged an OOM kill in the unit. */
  killed: boolean;
  /** Why the answer is what it is, for the diagnostics. */
  why: "logged" | "unit ended without one" | "no entry of the unit" | "none within the wait";
}

/**
 * Reads the journal for systemd's record of an OOM kill in `unit` logged at
 * or after `sinceUsec` (CLOCK_REALTIME, µs). Waits up to `timeoutMs` for an
 * entry still on its way to the journal. Throws (one line) when the journal
 * cannot be read.
 */
export async function unitOomRecord(
  unit: string,
  sinceUsec: bigint,
  timeoutMs: number,
): Promise<UnitOomRecord> {
  const journal = JournalReader.open([[`UNIT=${unit}`], [`USER_UNIT=${unit}`]]);
  try {
    journal.seekRealtime(sinceUsec);
    const deadline = performance.now() + timeoutMs;
    let entries = 0;
    for (;;) {
      while (journal.next()) {
        entries++;
        const id = journal.field("MESSAGE_ID");
        if (id === UNIT_OOM_MESSAGE_ID) return { killed: true, why: "logged" };
        if (id !== undefined && UNIT_END_MESSAGE_IDS.has(id)) {
          return { killed: false, why: "unit ended without one" };
        }
      }
      // Not even the unit's start: this journal does not show the unit (a
      // user's entries in a journal it may not read), and waiting is in vain.
      if (entries === 0) return { killed: false, why: "no entry of the unit" };
      const left = deadline - performance.now();
      if (left <= 0) return { killed: false, why: "none within the wait" };
      await journal.wait(Math.min(left, 100));
    }
  } finally {
    journal.close();
  }
}

/**
 * The kernel log fixtures of testdata/kmsg: raw /dev/kmsg records captured
 * from real kernels (the first line of each file says which and how).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type KmsgRecord, parseKmsgRecord } from "../../src/oom/kmsg.ts";
import { REPO } from "../support/env.ts";

/** The raw records of a fixture, dictionary lines kept with their record. */
export function rawRecords(name: string): string[] {
  const lines = Deno.readTextFileSync(`${REPO}/testdata/kmsg/${name}`).split("\n");
  assert.match(lines[0], /^# .*kernel/, `${name}: first line says where it comes from`);
  const out: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    if (line.startsWith(" ")) out[out.length - 1] += line + "\n";
    else out.push(line + "\n");
  }
  return out;
}

/** A fixture's records, parsed. */
export function records(name: string): KmsgRecord[] {
  return rawRecords(name).map((raw) => {
    const rec = parseKmsgRecord(raw);
    assert.ok(rec, `${name}: unparsable record ${raw}`);
    return rec;
  });
}

/** The record of a fixture whose message starts with `prefix`. */
export function recordStarting(name: string, prefix: string): KmsgRecord {
  const rec = records(name).find((r) => r.message.startsWith(prefix));
  assert.ok(rec, `${name}: no record starting with ${prefix}`);
  return rec;
}

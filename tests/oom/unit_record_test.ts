/**
 * containerUnit: which systemd unit's record may speak for a container's
 * cgroup (src/oom/unit_record.ts). The journal itself: tests/journald.
 */
import assert from "node:assert/strict";
import { containerUnit } from "../../src/oom/unit_record.ts";

const CID = "63c1d584a757822de7b0809401961fbdcf4b31f8ebfc05dbcd8644f33a768364";

Deno.test("containerUnit: podman's scope, rootless (runc: the process in the scope itself)", () => {
  const path = `/user.slice/user-1001.slice/user@1001.service/user.slice/libpod-${CID}.scope`;
  assert.equal(containerUnit(path, CID), `libpod-${CID}.scope`);
});

Deno.test("containerUnit: crun's container sub-cgroup belongs to its scope", () => {
  assert.equal(
    containerUnit(`/machine.slice/libpod-${CID}.scope/container`, CID),
    `libpod-${CID}.scope`,
  );
});

Deno.test("containerUnit: CRI-O's scope under the pod's slice", () => {
  const path =
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/crio-${CID}.scope`;
  assert.equal(containerUnit(path, CID), `crio-${CID}.scope`);
});

Deno.test("containerUnit: a unit that does not name the container speaks for others too: none", () => {
  // A user's service (rootless podman on cgroupfs), a neighbour's scope, a slice alone.
  assert.equal(
    containerUnit(`/user.slice/user-1001.slice/user@1001.service/ctr-${CID}`, CID),
    undefined,
  );
  assert.equal(containerUnit("/machine.slice/libpod-0123.scope/container", CID), undefined);
  assert.equal(containerUnit(`/machine.slice/${CID}`, CID), undefined);
  assert.equal(containerUnit(`/libpod_parent/libpod-${CID}`, CID), undefined);
  assert.equal(containerUnit(`/machine.slice/libpod-${CID}.scope`, ""), undefined);
});

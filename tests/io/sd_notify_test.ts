/** Which notification lines the sd-notify proxy passes on (conmon's list). */
import assert from "node:assert/strict";
import { filterNotification } from "../../src/io/sd_notify.ts";

Deno.test("sd-notify: READY/RELOADING/STOPPING/WATCHDOG lines and STATUS-like prefixes pass", () => {
  assert.equal(filterNotification("READY=1"), "READY=1");
  assert.equal(
    filterNotification("READY=1\nSTATUS=serving\nRELOADING=1\nSTOPPING=1\nWATCHDOG=1"),
    "READY=1\nSTATUS=serving\nRELOADING=1\nSTOPPING=1\nWATCHDOG=1",
  );
  assert.equal(
    filterNotification("WATCHDOG=trigger\nERRNO=2\nBUSERROR=x.y\nMONOTONIC_USEC=12"),
    "WATCHDOG=trigger\nERRNO=2\nBUSERROR=x.y\nMONOTONIC_USEC=12",
  );
});

Deno.test("sd-notify: MAINPID and anything else is held back; \\r ends a line too", () => {
  assert.equal(filterNotification("MAINPID=1\nREADY=1\nFDSTORE=1"), "READY=1");
  assert.equal(filterNotification("MAINPID=1"), "");
  assert.equal(filterNotification("READY=1\rSTATUS=a\r\nX=1"), "READY=1\nSTATUS=a");
  // Exact lines only: no near misses.
  assert.equal(filterNotification("READY=10\nREADY=1 \n READY=1\nWATCHDOG=0"), "");
});

/**
 * Phase 1, prepare: what must exist before the runtime runs. The logs (the
 * container's first line must find them), the stdio pipes and console socket
 * the runtime is handed, the sd-notify proxy, /dev/kmsg positioned at its
 * end, and signal forwarding.
 *
 * @module
 */
import { ContainerEndpoints } from "../io/endpoints.ts";
import { loadLogDrivers, openLogSinks } from "../io/log_sinks.ts";
import { OomEvidence } from "../oom/evidence.ts";
import { diag, errorText } from "../diag.ts";
import { MonitorFailure, type MonitorSession } from "./session.ts";

export async function prepare(s: MonitorSession): Promise<void> {
  const { cfg } = s;
  try {
    const logSinks = openLogSinks(cfg, s.hooks.logFiles, await loadLogDrivers(cfg));
    s.logSinks = logSinks;
    s.endpoints = new ContainerEndpoints(cfg, s.poller, () => logSinks.reopen());
  } catch (err) {
    throw new MonitorFailure(`cannot set up the container's I/O: ${errorText(err)}`);
  }
  // --sdnotify-socket: the container's notifications reach the host through us.
  if (cfg.sdnotifySocket) {
    try {
      const { NotifyProxy } = await import("../io/sd_notify.ts");
      s.notify = new NotifyProxy(s.poller, cfg.bundle, cfg.sdnotifySocket, diag);
    } catch (err) {
      throw new MonitorFailure(`cannot set up the sd-notify socket: ${errorText(err)}`);
    }
  }
  // Positioned now, the kernel's reports name every OOM kill from here on,
  // the runtime's own during create included. Read only when one happens.
  s.oomEvidence = OomEvidence.open();
  // Signals to the monitor go to the runtime, then to the container.
  s.forwardSignals();
}

/**
 * The podman lane on a systemd host, with podman's stock configuration:
 * the systemd cgroup manager, the journald log driver and journald events;
 * only the monitor (OCIMON_BIN: ocimon, or /usr/bin/conmon, the control) and the runtime
 * are chosen. The tests are tests/podman's own.
 */
Deno.env.set("OCIMON_PODMAN_STOCK", "1");
// Run as a user would, without the INVOCATION_ID of the lane's systemd
// service (with it, podman leaves the monitor in the service's cgroup;
// stock_test.ts covers that, in a test process of its own).
Deno.env.delete("INVOCATION_ID");
await import("../podman/podman_test.ts");

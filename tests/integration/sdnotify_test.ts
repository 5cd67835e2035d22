/**
 * --sdnotify-socket: the monitor binds BUNDLE/notify/notify.sock and relays
 * what arrives there, filtered, to the host's socket, sent by the monitor's
 * own process (systemd checks the sender against MAINPID). Here the "host"
 * socket is ours, with SO_PASSCRED to see the sender; the container side is
 * played by the test (podman and a real container: tests/systemd).
 * OCIMON_BIN=/usr/bin/conmon runs the same checks on conmon.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, launchMonitor, sleep, waitFor } from "../support/harness.ts";
import { IS_CONMON, tempDir } from "../support/env.ts";
import {
  AF_UNIX,
  check,
  errno,
  libc,
  MSG_DONTWAIT,
  O_CLOEXEC,
  SOCK_DGRAM,
  SOL_SOCKET,
} from "../../src/sys/libc.ts";
const SO_PASSCRED = 16;
const SCM_CREDENTIALS = 2;

function addr(path: string): Uint8Array<ArrayBuffer> {
  const a = new Uint8Array(110);
  new DataView(a.buffer).setUint16(0, AF_UNIX, true);
  a.set(new TextEncoder().encode(path), 2);
  return a;
}

/** A datagram socket bound at `path` that sees its senders' credentials. */
function hostSocket(path: string): number {
  const fd = check(libc.socket(AF_UNIX, SOCK_DGRAM | O_CLOEXEC, 0), "socket");
  const a = addr(path);
  check(libc.bind(fd, a, a.length), "bind");
  check(
    libc.setsockopt(fd, SOL_SOCKET, SO_PASSCRED, new Uint8Array(new Int32Array([1]).buffer), 4),
    "setsockopt",
  );
  return fd;
}

const ptr = (b: Uint8Array) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));

/** One datagram and its sender's pid, or undefined if none waits. */
function receive(fd: number): { text: string; pid: number } | undefined {
  const data = new Uint8Array(4096);
  const iov = new BigUint64Array([ptr(data), BigInt(data.length)]);
  const control = new Uint8Array(64);
  const msg = new BigUint64Array(7);
  msg[2] = ptr(new Uint8Array(iov.buffer));
  msg[3] = 1n;
  msg[4] = ptr(control);
  msg[5] = BigInt(control.length);
  const n = Number(libc.recvmsg(fd, new Uint8Array(msg.buffer), MSG_DONTWAIT));
  if (n < 0) return undefined;
  const view = new DataView(control.buffer);
  assert.equal(view.getInt32(12, true), SCM_CREDENTIALS, "credentials came with the message");
  return { text: new TextDecoder().decode(data.subarray(0, n)), pid: view.getInt32(16, true) };
}

function send(path: string, text: string): void {
  const fd = check(libc.socket(AF_UNIX, SOCK_DGRAM | O_CLOEXEC, 0), "socket");
  const a = addr(path);
  const data = new TextEncoder().encode(text);
  const n = Number(libc.sendto(fd, data, BigInt(data.length), 0, a, a.length));
  libc.close(fd);
  if (n < 0) throw new Error(`sendto ${path}: errno ${errno()}`);
}

Deno.test("--sdnotify-socket relays the container's READY=1 and STATUS=, from the monitor's pid", async () => {
  const dir = tempDir("sdnotify");
  const host = join(dir, "host.sock");
  const hostFd = hostSocket(host);
  const c = await launchMonitor({
    name: "sdnotify",
    args: ["sleep", "30"],
    extra: ["--sdnotify-socket", host],
    drop: IS_CONMON ? ["--status-file"] : [],
    // podman makes BUNDLE/notify (and mounts it at /run/notify); conmon needs it there.
    mkdirs: ["notify"],
  });
  try {
    assert.equal(c.launcher.code, 0, c.launcherStderr);
    await c.sync.next();
    const sock = join(c.bundle, "notify", "notify.sock");
    assert(exists(sock), "the container's notify socket is there before the container starts");
    assert.equal(
      Deno.statSync(sock).mode! & 0o777,
      0o777,
      "anyone in the container may write to it",
    );
    await c.start();
    send(sock, "MAINPID=1\nFDSTORE=1");
    send(sock, "STATUS=starting\nMAINPID=1\nREADY=1\nBOGUS=2\rWATCHDOG=1");
    const got = await waitFor(() => receive(hostFd), 5000, "a relayed notification");
    // conmon main (2.1.10 on) passes these lines; 2.1.6 passes READY=1 alone.
    assert.equal(
      got.text,
      IS_CONMON ? "READY=1" : "STATUS=starting\nREADY=1\nWATCHDOG=1",
      "filtered; nothing for MAINPID alone",
    );
    assert.equal(got.pid, c.monitorPid(), "sent by the monitor, the pid podman gives as MAINPID");
    await sleep(200);
    assert.equal(receive(hostFd), undefined, "one message in, one out");
  } finally {
    libc.close(hostFd);
    await c.cleanup();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "--sdnotify-socket: a host socket that is gone loses notifications, not the container",
  fn: async () => {
    const dir = tempDir("sdnotify-gone");
    const c = await launchMonitor({
      name: "sdnotify-gone",
      args: ["sh", "-c", "sleep 1; exit 6"],
      extra: ["--sdnotify-socket", join(dir, "nobody.sock")],
      drop: IS_CONMON ? ["--status-file"] : [],
      mkdirs: ["notify"],
    });
    try {
      assert.equal(c.launcher.code, 0, c.launcherStderr);
      await c.sync.next();
      await c.start();
      send(join(c.bundle, "notify", "notify.sock"), "READY=1");
      assert.equal(await c.exitCode(), "6");
    } finally {
      await c.cleanup();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "--sdnotify-socket: the proxy socket is removed with the container",
  ignore: IS_CONMON, // conmon leaves it (podman removes the bundle)
  fn: async () => {
    const dir = tempDir("sdnotify-rm");
    const c = await launchMonitor({
      name: "sdnotify-rm",
      args: ["true"],
      extra: ["--sdnotify-socket", join(dir, "host.sock")],
    });
    try {
      await c.sync.next();
      await c.start();
      assert.equal(await c.exitCode(), "0");
      await waitFor(
        () => exists(join(c.bundle, "notify", "notify.sock")) ? undefined : true,
        5000,
        "removal",
      );
    } finally {
      await c.cleanup();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

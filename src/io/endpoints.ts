/**
 * The endpoints a container's I/O goes through, owned in one place: the
 * stdio pipes and console socket the runtime uses, and what clients use (the
 * attach socket, the stdin writer, the ctl and winsz FIFOs).
 *
 * @module
 */
import type { Config } from "../cli/config.ts";
import type { Poller } from "../sys/poller.ts";
import { closeQuietly, dupCloexec } from "../sys/fd.ts";
import { setWindowSize } from "../sys/tty.ts";
import {
  closeParentEnds,
  createStdioPipes,
  type OutputSource,
  type StdioPipes,
} from "./container_io.ts";
import { AttachServer } from "./attach.ts";
import { ControlFifos } from "./ctl_fifos.ts";
import { ConsoleSocket } from "./console_socket.ts";
import { StdinWriter } from "./stdin_writer.ts";

/**
 * The endpoints a container's I/O goes through. What the runtime itself uses
 * (stdio pipes, the console socket) is made before it runs; what clients use
 * (attach socket, stdin writer, ctl/winsz FIFOs) is made by openForClients().
 */
export class ContainerEndpoints {
  pipes?: StdioPipes;
  console?: ConsoleSocket;
  attach?: AttachServer;
  fifos?: ControlFifos;
  master?: number;
  stdin?: StdinWriter;
  #closed = false;

  constructor(
    readonly cfg: Config,
    readonly poller: Poller,
    readonly onReopenLogs: () => void,
  ) {
    const passthrough = cfg.logDrivers.some((d) => d.kind === "passthrough");
    if (passthrough) return; // the runtime gets our own stdio
    try {
      if (cfg.terminal) this.console = new ConsoleSocket();
      this.pipes = createStdioPipes(cfg.stdin && !cfg.terminal, !cfg.terminal);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Makes the attach socket, the stdin writer and the FIFOs. */
  openForClients(): void {
    if (!this.pipes) return;
    const cfg = this.cfg;
    // With -t, stdin waits for the pty in the writer's queue.
    if (cfg.terminal || this.pipes.stdinWriter !== undefined) {
      this.stdin = new StdinWriter(this.poller, this.pipes.stdinWriter);
      // Backpressure: clients are read only while the container's stdin takes more.
      this.stdin.onDrain = () => this.attach?.resumeInput();
    }
    // An exec without a bundle (CRI-O's ExecSync): nothing for clients, as conmon.
    if (!cfg.bundleEndpoints) return;
    this.attach = new AttachServer(this.poller, cfg, {
      onInput: (data) => this.stdin?.write(data) ?? true,
      onInputEnd: () => {
        if (cfg.stdin && !cfg.leaveStdinOpen) this.stdin?.close();
      },
    });
    this.fifos = new ControlFifos(this.poller, cfg.bundle, {
      onResize: (rows, cols) => {
        if (this.master !== undefined) setWindowSize(this.master, rows, cols);
      },
      onReopenLogs: this.onReopenLogs,
    });
  }

  /** The runtime's stdio: our pipes' child ends, or /dev/null. */
  runtimeFds(): Record<number, number | "null"> {
    if (!this.pipes) return {};
    return {
      0: this.pipes.childStdin ?? "null",
      1: this.pipes.childStdout ?? "null",
      2: this.pipes.childStderr,
    };
  }

  /** After create, with -t: take the pty and wire stdin to it. False if no pty came. */
  connect(): boolean {
    if (!this.console) return true;
    this.master = this.console.receiveMaster();
    if (this.master === undefined) return false;
    this.stdin?.connect(dupCloexec(this.master));
    return true;
  }

  outputSources(): OutputSource[] {
    if (!this.pipes) return [];
    const out: OutputSource[] = [];
    if (this.master !== undefined) out.push({ fd: this.master, stream: "stdout", tty: true });
    if (this.pipes.stdoutReader !== undefined) {
      out.push({ fd: this.pipes.stdoutReader, stream: "stdout" });
    }
    out.push({ fd: this.pipes.stderrReader, stream: "stderr" });
    return out;
  }

  /** Disconnects attach clients and removes sockets and FIFOs (once). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.attach?.close();
    this.fifos?.close();
    this.console?.close();
    this.stdin?.abort();
    for (const name of ["ctl", "winsz"]) {
      try {
        if (this.fifos) Deno.removeSync(`${this.cfg.bundle}/${name}`);
      } catch { /* gone */ }
    }
  }

  /**
   * Also closes our ends of the pipes and the terminal: for a container that
   * never came to be, or whose monitor gives up.
   */
  release(): void {
    this.close();
    if (this.pipes) closeParentEnds(this.pipes);
    this.pipes = undefined;
    if (this.master !== undefined) closeQuietly(this.master);
    this.master = undefined;
  }
}

#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal of ROWSxCOLS, as a person's terminal.

usage: pty_run.py ROWS COLS [--resize ROWS2 COLS2 --after TEXT] -- CMD...

Prints everything the command wrote to the terminal. With --resize, once
TEXT has appeared in the output the terminal is resized (the kernel sends
SIGWINCH to the command, as when a window is resized) and a newline is typed.
Exits with the command's exit status; gives up after 60 s.
"""
import fcntl, os, pty, select, struct, sys, termios, time

def winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

def main():
    args = sys.argv[1:]
    sep = args.index("--")
    opts, cmd = args[:sep], args[sep + 1:]
    rows, cols = int(opts[0]), int(opts[1])
    resize = after = None
    if "--resize" in opts:
        i = opts.index("--resize")
        resize = (int(opts[i + 1]), int(opts[i + 2]))
        after = opts[opts.index("--after") + 1].encode()
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    winsize(master, rows, cols)
    out = b""
    deadline = time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if master in r:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
            if resize and after in out:
                time.sleep(0.3)
                winsize(master, *resize)
                time.sleep(0.5)
                os.write(master, b"\n")
                resize = None
    sys.stdout.write(out.decode(errors="replace"))
    sys.stdout.flush()
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))

main()

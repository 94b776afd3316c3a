#!/usr/bin/env python3
"""Drive an interactive program through a real pty, as a person at a terminal would.

usage: pty_drive.py ROWS COLS -- COMMAND [ARG...] < script

The script has one step per line:
  expect TEXT     wait (up to 20 s) until TEXT has appeared in the output since the last expect
  send TEXT       type TEXT (\\r, \\n, \\x03 and \\x04 escapes are understood)
  resize R C      change the terminal's size (the program gets SIGWINCH)
  pause SECS      keep reading output for SECS seconds (lets a command start)
Prints the whole output at the end and exits with the program's exit code
(or 124 when an expect timed out)."""
import codecs, fcntl, os, pty, select, struct, sys, termios, time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    rows, cols = int(sys.argv[1]), int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    steps = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    set_size(fd, rows, cols)
    out = b""
    seen = 0

    def read(timeout):
        nonlocal out
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        out += data
        return True

    for step in steps:
        verb, _, arg = step.partition(" ")
        if verb == "expect":
            want = codecs.decode(arg, "unicode_escape").encode()
            deadline = time.time() + 20
            while want not in out[seen:]:
                if time.time() > deadline or not read(0.2):
                    sys.stdout.write(out.decode(errors="replace"))
                    print(f"\npty_drive: timed out waiting for {arg!r}", file=sys.stderr)
                    os.kill(pid, 9)
                    sys.exit(124)
            seen = out.index(want, seen) + len(want)
        elif verb == "send":
            os.write(fd, codecs.decode(arg, "unicode_escape").encode())
        elif verb == "pause":
            end = time.time() + float(arg)
            while time.time() < end and read(0.05):
                pass
        elif verb == "resize":
            r, c = arg.split()
            set_size(fd, int(r), int(c))
    deadline = time.time() + 20
    while time.time() < deadline and read(0.2):
        wpid, status = os.waitpid(pid, os.WNOHANG)
        if wpid:
            break
    else:
        wpid, status = 0, 0
    while read(0.05):
        pass
    if not wpid:
        wpid, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


main()

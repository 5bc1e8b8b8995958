#!/usr/bin/env python3
"""pty_drive.py - drive an interactive program through a pseudo-terminal.

Usage: pty_drive.py SCRIPT -- COMMAND [ARG...]

Runs COMMAND on a new pseudo-terminal (80x24, TERM=xterm unless set) and
follows SCRIPT, one action per line:

    send TEXT        type TEXT (Python escapes: \\r Enter, \\t Tab, \\x03 Ctrl-C,
                     \\x04 Ctrl-D, \\x1b[A Up arrow) once a line editor reads
                     the terminal (canonical mode off): keys typed ahead while
                     the terminal is still in canonical mode would be echoed
                     twice, and a Ctrl-D there would be an end-of-file event
    sendnow TEXT     type TEXT at once (e.g. Ctrl-C while a command runs)
    expect TEXT      wait until TEXT (same escapes) appears in the output after
                     the previous match; the output is compared with terminal
                     escape sequences and carriage returns removed
    expectraw TEXT   wait until TEXT (same escapes) appears in the raw output,
                     escape sequences included, after the previous expectraw
    exit CODE        wait for the program to end with status CODE, or SIGINT /
                     SIGKILL... for death by that signal
    # comment, blank lines ignored

Every wait has a timeout (PTY_TIMEOUT seconds, default 10). On failure it
prints the action, the expected text and the tail of the (cleaned) output,
and exits 1; the program is killed. With PTY_LOG=FILE the whole cleaned
output is written to FILE at the end (for checks the script cannot make,
e.g. that a message appears only once). Only the Python standard library is used.
Part of the stratsim CLI tests (tests/cli/test_repl.sh).
"""
import os
import re
import select
import signal
import struct
import sys
import time

try:
    import fcntl
    import pty
    import termios
except ImportError:  # not a POSIX system
    print("pty_drive: no pty support", file=sys.stderr)
    sys.exit(77)

TIMEOUT = float(os.environ.get("PTY_TIMEOUT", "10"))
ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]"     # CSI
                     rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
                     rb"|\x1b[()][0-9A-Za-z]"          # charset
                     rb"|\x1b[=>78]|\x1b[ -~]?")         # other ESC x
CONTROL = re.compile(rb"[\r\x07\x00]")


def clean(raw):
    return CONTROL.sub(b"", ESCAPES.sub(b"", raw))


def unescape(text):
    return text.encode("utf-8").decode("unicode_escape").encode("latin-1")


class Session:
    def __init__(self, argv):
        self.raw = b""
        self.pos = 0  # in the cleaned output: end of the last match
        self.rawpos = 0  # in the raw output: end of the last expectraw match
        self.status = None
        pid, fd = pty.fork()
        if pid == 0:
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
                os.environ.setdefault("TERM", "xterm")
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd

    def read_some(self, until):
        """Read what is available before time `until`; False at EOF."""
        left = max(0.0, until - time.monotonic())
        r, _, _ = select.select([self.fd], [], [], min(left, 0.2))
        if not r:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the program has gone
            return False
        if not data:
            return False
        self.raw += data
        return True

    def send(self, data, wait=True):
        until = time.monotonic() + TIMEOUT
        while wait and termios.tcgetattr(self.fd)[3] & termios.ICANON:
            if time.monotonic() > until:
                self.fail("send %r: the terminal stays in canonical mode (no line editor?)" % data)
            self.read_some(min(until, time.monotonic() + 0.01))
        os.write(self.fd, data)

    def expect(self, text):
        want = unescape(text)
        until = time.monotonic() + TIMEOUT
        alive = True
        while True:
            out = clean(self.raw)
            i = out.find(want, self.pos)
            if i >= 0:
                self.pos = i + len(want)
                return
            if not alive or time.monotonic() > until:
                self.fail("expect %r: %s" % (want, "program ended" if not alive else "timeout"))
            alive = self.read_some(until)

    def expectraw(self, text):
        want = unescape(text)
        until = time.monotonic() + TIMEOUT
        alive = True
        while True:
            i = self.raw.find(want, self.rawpos)
            if i >= 0:
                self.rawpos = i + len(want)
                return
            if not alive or time.monotonic() > until:
                self.fail("expectraw %r: %s" % (want, "program ended" if not alive else "timeout"))
            alive = self.read_some(until)

    def wait_exit(self, code):
        until = time.monotonic() + TIMEOUT
        while True:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = st
                break
            if time.monotonic() > until:
                self.fail("exit %s: timeout" % code)
            if not self.read_some(until):
                time.sleep(0.02)
        while self.read_some(time.monotonic()) and select.select([self.fd], [], [], 0)[0]:
            pass
        if os.WIFSIGNALED(self.status):
            got = signal.Signals(os.WTERMSIG(self.status)).name
        else:
            got = str(os.WEXITSTATUS(self.status))
        if got != code:
            self.fail("exit %s: got %s" % (code, got))

    def fail(self, what):
        tail = clean(self.raw)[-1500:].decode("utf-8", "replace")
        if os.environ.get("PTY_DEBUG"):
            print("pty_drive: raw output: %r" % self.raw, file=sys.stderr)
        print("pty_drive: %s\n---- output (cleaned, last 1500 bytes) ----\n%s\n----"
              % (what, tail), file=sys.stderr)
        self.kill()
        self.log()
        sys.exit(1)

    def log(self):
        path = os.environ.get("PTY_LOG")
        if path:
            with open(path, "wb") as f:
                f.write(clean(self.raw))

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.status = -1


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        script = f.read().splitlines()
    s = Session(sys.argv[3:])
    for line in script:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        action, _, arg = line.partition(" ")
        if action == "send":
            s.send(unescape(arg))
        elif action == "sendnow":
            s.send(unescape(arg), wait=False)
        elif action == "expect":
            s.expect(arg)
        elif action == "expectraw":
            s.expectraw(arg)
        elif action == "exit":
            s.wait_exit(arg.strip())
        else:
            s.fail("unknown action %r" % action)
    s.kill()
    s.log()
    return 0


if __name__ == "__main__":
    sys.exit(main())

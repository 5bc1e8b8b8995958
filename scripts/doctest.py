#!/usr/bin/env python3
"""doctest.py - run the examples of README.md and docs/*.md and compare their output.

Usage: doctest.py [--update] [--list] [--stratsim BIN] [--build DIR] [FILE.md ...]

An example is checked when an HTML comment marks it (invisible on a rendered
page); the indented code block (four spaces) that follows the marker is the
example. The kinds (docs/doctest.md has the full description):

    <!-- doctest: sh -->            a shell transcript: "$ COMMAND" lines (a
                                    command continues while its quotes are open
                                    or a line ends in a backslash), each followed
                                    by its output (standard output and error)
    <!-- doctest: output COMMAND --> the block is the output of COMMAND (an
                                    indented block, or a Markdown table)
    <!-- doctest: measured HOW -->  measurements of one machine (HOW: e.g. make
                                    bench): not run, not compared; a table must
                                    have its header's cells in every row
    <!-- doctest: repl [FILE] -->   a `stratsim repl [FILE]` transcript: lines
                                    after "stratsim> " or "> " are entries (">> "
                                    continues one), the other lines their output
    <!-- doctest: tty [COMMAND] -->  a session on a terminal (a pseudo-terminal):
                                    "$ COMMAND" (or the marker's COMMAND), then
                                    the screen; text after a prompt is typed,
                                    an entry whose output starts with "^C" gets
                                    Ctrl-C after TTY_CTRL_C_AFTER seconds, one
                                    that ends in "-- Ctrl-C" once it has shown
                                    something (a progress bar); a last bare prompt: the screen is
                                    compared as it is then
    <!-- doctest: lua -->           Lua code run in `stratsim repl` as one chunk with
                                    the other lua blocks of the file (when the first
                                    is reached); "EXPR --> VALUE" checks
                                    that EXPR gives VALUE (a final "(comment)" is
                                    not compared; "print(x) --> VALUE" checks x)
    <!-- doctest: lua-output -->    what the preceding lua block printed
    <!-- doctest: run -->           commands shown without output, one a line (continued
                                    as in sh): each must succeed (exit status 0)
    <!-- doctest: file NAME -->     the block is written to the file NAME (for later examples)
    <!-- doctest: setup COMMAND --> (no block) a command that prepares the files later
                                    examples use; it must succeed

Volatile parts: a line that is only "..." stands for any number of lines (none
included); "..." inside a line stands for any text. Every file's examples run in
order in one temporary directory holding links to the repository's scenarios/,
tests/, docs/, scripts/ and the build directory as build/, with an empty out/,
and `stratsim` on PATH.

--update rewrites the expected output of every checked block from the real
output (lines with "..." are kept as written); it cannot update a block whose
shape (the text with numbers masked) no longer matches, and says so. --list
prints the checked blocks. Exit status: 0 all match, 1 a mismatch or failure,
2 usage.
"""
import difflib
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

MARK = re.compile(r"^ *<!-- doctest: ([a-z-]+)(?: (.*?))? -->\s*$")
PROMPT = re.compile(r"^(stratsim> |> )(.*)$")
CONT = re.compile(r"^>> ?(.*)$")
ARROW = re.compile(r"^(.*?\S)\s+--> (.*)$")
NUMBER = re.compile(r"[-+]?\d[\d.,]*(?:e[-+]?\d+)?")
TIMEOUT = 300
SENTINEL = "\x01DOCTEST\x01"
KINDS = ("sh", "output", "measured", "repl", "tty", "lua", "lua-output", "run", "setup", "file")
TTY_PROMPTS = ("stratsim> ", ">> ")
TTY_COLUMNS = 200     # wide enough that no typed entry wraps
TTY_CTRL_C_AFTER = 1.5  # seconds a command runs before the transcript's Ctrl-C


class Block:
    def __init__(self, path, mark_line, kind, arg, start, lines):
        self.path, self.mark_line, self.kind, self.arg = path, mark_line, kind, arg
        self.start = start      # index in the file's lines of the first block line
        self.indent = ""        # the indentation removed from the lines
        self.lines = lines      # the block's lines without that indentation
        self.new = None         # updated lines (--update)

    def where(self):
        return "%s:%d" % (self.path, self.start + 1)


def read_blocks(path, text):
    """The marked blocks of a Markdown file."""
    lines = text.split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if not m:
            i += 1
            continue
        kind, arg = m.group(1), (m.group(2) or "").strip()
        if kind not in KINDS:
            raise SystemExit("%s:%d: unknown doctest kind '%s' (known: %s)"
                             % (path, i + 1, kind, ", ".join(KINDS)))
        if kind == "setup":
            b = Block(path, i + 1, kind, arg, i, [])
            b.new = None
            blocks.append(b)
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and lines[j].startswith("|") and kind in ("output", "measured"):
            k = j  # a Markdown table: its lines as they are
            while k < len(lines) and lines[k].startswith("|"):
                k += 1
            blocks.append(Block(path, i + 1, kind, arg, j, lines[j:k]))
            i = k
            continue
        if j >= len(lines) or not lines[j].startswith("    "):
            raise SystemExit("%s:%d: the doctest marker is not followed by an indented block"
                             % (path, i + 1))
        k = j
        while k < len(lines) and (lines[k].startswith("    ") or not lines[k].strip()):
            k += 1
        while k > j and not lines[k - 1].strip():
            k -= 1
        # the block's indentation: that of its first line (4, or 8 in a list item)
        ind = lines[j][:len(lines[j]) - len(lines[j].lstrip(" "))]
        body = lines[j:k]
        if any(l.strip() and not l.startswith(ind) for l in body):
            ind = "    "
        b = Block(path, i + 1, kind, arg, j, [l[len(ind):] for l in body])
        b.indent = ind
        blocks.append(b)
        i = k
    return blocks


# ------------------------------------------------------------ matching

def norm(line):
    """A line with its numbers masked and its spaces collapsed (shape)."""
    return " ".join(NUMBER.sub("#", line).split())


def line_regex(pat, shape):
    """Regex of an expected line ("..." inside it: any text)."""
    if shape:
        pat = norm(pat)
    parts = [re.escape(p) for p in pat.split("...")]
    return re.compile("^" + ".*".join(parts) + "$", re.S)


def match(expected, actual, shape=False):
    """Align expected lines (with elisions) to actual lines. Returns a list:
    for each expected line, the index of the actual line it matched (None for
    an elision line), or None if they do not match."""
    n, m = len(expected), len(actual)
    regs = [None if e.strip() == "..." else line_regex(re.sub(r"^\t", " " * 8, e.rstrip()), shape)
            for e in expected]
    acts = [norm(a) if shape else a.rstrip() for a in actual]
    memo = {}

    def go(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == n:
            res = [] if j == m else None
        elif regs[i] is None:
            res = None
            for jj in range(j, m + 1):
                rest = go(i + 1, jj)
                if rest is not None:
                    res = [None] + rest
                    break
        elif j < m and regs[i].match(acts[j]):
            rest = go(i + 1, j + 1)
            res = None if rest is None else [j] + rest
        else:
            res = None
        memo[key] = res
        return res

    sys.setrecursionlimit(max(10000, 4 * (n + m) + 100))
    return go(0, 0)


def updated(expected, actual):
    """Expected lines rewritten from actual (lines with "..." kept), or None."""
    if match(expected, actual) is not None:
        return list(expected)
    al = match(expected, actual, shape=True)
    if al is None:
        if not any("..." in e for e in expected):
            return list(actual)  # no elision: the output as it is
        return None
    return [e if (j is None or "..." in e) else actual[j].rstrip() for e, j in zip(expected, al)]


# ------------------------------------------------------------ running

class Runner:
    def __init__(self, stratsim, build, root):
        self.stratsim, self.build, self.root = stratsim, build, root

    def env(self, work):
        env = dict(os.environ)
        env.update(PATH=os.path.join(work, ".bin") + os.pathsep + env.get("PATH", ""),
                   HOME=work, LC_ALL="C", STRATSIM_HISTORY="", TERM="dumb")
        asan = self.asan_runtime()
        if asan:  # a sanitizer build (make asan): lua5.4 loading stratsim.so needs the runtime first
            env["LD_PRELOAD"] = asan
            env["ASAN_OPTIONS"] = "detect_leaks=0"  # leaks are the CLI tests' job; sh, gnuplot run here too
        return env

    def asan_runtime(self):
        if not hasattr(self, "_asan"):
            self._asan = None
            so = os.path.join(self.build, "stratsim.so")
            try:
                out = subprocess.run(["ldd", so], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     timeout=30).stdout.decode()
                m = re.search(r"libasan\S*\s+=>\s+(\S+)", out)
                self._asan = m.group(1) if m else None
            except (OSError, subprocess.SubprocessError):
                pass
        return self._asan

    def setup(self):
        work = tempfile.mkdtemp(prefix="doctest.")
        os.mkdir(os.path.join(work, ".bin"))
        os.symlink(self.stratsim, os.path.join(work, ".bin", "stratsim"))
        for d in ("scenarios", "tests", "docs", "scripts"):
            os.symlink(os.path.join(self.root, d), os.path.join(work, d))
        os.symlink(self.build, os.path.join(work, "build"))
        os.mkdir(os.path.join(work, "out"))
        return work

    def sh(self, work, cmd, stdin=b""):
        p = subprocess.run(["sh", "-c", cmd], cwd=work, env=self.env(work), input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
        return p.stdout.decode("utf-8", "replace")


def split_row(line):
    """The cells of a Markdown table row (escaped pipes kept in their cell)."""
    return re.split(r"(?<!\\)\|", line.strip().strip("|"))


def out_lines(text):
    """Output as lines; a leading tab (tracebacks) shown as 8 spaces, as in the docs."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [re.sub(r"^\t", " " * 8, l.rstrip()) for l in lines]


def sh_commands(lines):
    """[(command, [expected output lines])] of a shell transcript."""
    cmds, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise ValueError("line %d: expected a '$ COMMAND' line" % (i + 1))
        cmd = lines[i][2:]
        i += 1
        while (cmd.endswith("\\") or cmd.count("'") % 2 == 1) and i < len(lines):
            cmd += "\n" + lines[i]
            i += 1
        here = re.search(r"<<-?\s*'?([A-Za-z_]+)'?", cmd)
        if here:  # a here-document: up to its delimiter line
            while i < len(lines):
                cmd += "\n" + lines[i]
                i += 1
                if lines[i - 1].strip() == here.group(1):
                    break
        out = []
        while i < len(lines) and not lines[i].startswith("$ "):
            out.append(lines[i])
            i += 1
        while out and not out[-1].strip():
            out.pop()
        cmds.append((cmd, out))
    return cmds


def repl_entries(lines):
    """[(prompt, entry text, [expected output lines])] of a REPL transcript."""
    entries, i = [], 0
    while i < len(lines):
        m = PROMPT.match(lines[i])
        if not m:
            raise ValueError("line %d: expected an entry after 'stratsim> ' or '> '" % (i + 1))
        prompt, text = m.group(1), m.group(2)
        i += 1
        while i < len(lines) and CONT.match(lines[i]):
            text += "\n" + CONT.match(lines[i]).group(1)
            i += 1
        out = []
        while i < len(lines) and not PROMPT.match(lines[i]):
            out.append(lines[i])
            i += 1
        entries.append((prompt, text, out))
    return entries


def lua_arrows(lines, base):
    """The code of a lua block with its arrows made calls __dt_arrow(k, ...)
    (k from base), the expected values [(value, comment)] and the indices of
    the arrow lines."""
    code, want, where = [], [], []
    for i, line in enumerate(lines):
        m = ARROW.match(line)
        if not m or line.lstrip().startswith("--"):
            code.append(line)
            continue
        expr, value = m.group(1), m.group(2)
        comment = ""
        cm = re.match(r"^(.*?)(\s+\(.*\))$", value)
        if cm:
            value, comment = cm.group(1), cm.group(2)
        pm = re.match(r"^print\((.*)\)$", expr.strip())
        if pm:
            expr = pm.group(1)
        code.append("__dt_arrow(%d, %s)" % (base + len(want), expr))
        want.append((value, comment))
        where.append(i)
    return code, want, where


LUA_PRELUDE = r'''
local __dt_file = assert(io.open(os.getenv("DOCTEST_ARROWS"), "w"))
function __dt_arrow(k, ...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  __dt_file:write(k, "\t", (table.concat(t, "\t", 1, t.n):gsub("\n", "\\n")), "\n")
  __dt_file:flush()
end
function __dt_block(n) io.stdout:write("\1DOCTEST\1", n, "\n") io.stdout:flush() end
'''


# ------------------------------------------------------------ terminal

def render(raw):
    """The screen lines a terminal shows for raw output (no wrapping: the
    terminal is TTY_COLUMNS wide): carriage return, backspace, erase to the
    end of the line (CSI K) and clear screen (CSI 2J) are applied, other
    escape sequences dropped; a tab stays a tab (as in the other kinds)."""
    text = raw.decode("utf-8", "replace")
    lines, row, col = [[]], 0, 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\x1b":
            m = re.compile(r"\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|"
                           r"\x1b[()][0-9A-Za-z]|\x1b[ -~]?").match(text, i)
            i = m.end()
            if m.group(2) == "K":
                del lines[row][col:]
            elif m.group(2) == "J" and m.group(1) == "2":
                lines, row, col = [[]], 0, 0
            elif m.group(2) == "H":
                row, col = 0, 0
            continue
        i += 1
        if c == "\r":
            col = 0
        elif c == "\n":
            row += 1
            col = 0
            while len(lines) <= row:
                lines.append([])
        elif c == "\b":
            col = max(0, col - 1)
        elif c == "\t" or c >= " ":
            line = lines[row]
            while len(line) < col:
                line.append(" ")
            if col < len(line):
                line[col] = c
            else:
                line.append(c)
            col += 1
    out = ["".join(l).rstrip() for l in lines]
    while out and not out[-1]:
        out.pop()
    return [re.sub(r"^\t", " " * 8, l) for l in out]


class Tty:
    """A command on a pseudo-terminal (TTY_COLUMNS x 24)."""

    def __init__(self, cmd, cwd, env):
        import pty
        self.raw = b""
        pid, fd = pty.fork()
        if pid == 0:
            try:
                import fcntl
                import termios
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, TTY_COLUMNS, 0, 0))
                os.chdir(cwd)
                os.execvpe("sh", ["sh", "-c", cmd], env)
            finally:
                os._exit(127)
        self.pid, self.fd, self.status = pid, fd, None

    def pump(self, until):
        """Read what comes before time `until`; False once the program has gone."""
        r, _, _ = select.select([self.fd], [], [], max(0.0, min(until - time.monotonic(), 0.05)))
        if r:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                data = b""
            if not data:
                return False
            self.raw += data
        return True

    def reading(self):
        """A line editor reads the terminal (canonical mode off)."""
        import termios
        try:
            return not termios.tcgetattr(self.fd)[3] & termios.ICANON
        except termios.error:
            return False

    def prompts(self):
        return sum(self.raw.count(p.encode()) for p in TTY_PROMPTS)

    def at_prompt(self):
        """The screen's last line is a bare prompt: the editor redraws the
        entered line (prompt included) when Enter is pressed, so a count of
        prompts alone can run ahead of the program."""
        lines = render(self.raw)
        return bool(lines) and lines[-1].rstrip() in tuple(p.rstrip() for p in TTY_PROMPTS)

    def ready(self):
        return self.reading() and self.at_prompt()

    def wait(self, cond, what):
        until = time.monotonic() + TIMEOUT
        while not cond():
            if time.monotonic() > until or not self.pump(until):
                if cond():
                    return
                raise ValueError("terminal session: %s did not happen; the screen:\n%s"
                                 % (what, "\n".join(render(self.raw)[-20:])))

    def send(self, data):
        os.write(self.fd, data)

    def finish(self):
        """Wait for the end (a timeout kills it); drain the output."""
        until = time.monotonic() + TIMEOUT
        while self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = st
                break
            if time.monotonic() > until:
                self.kill()
                raise ValueError("terminal session: the program did not end; the screen:\n%s"
                                 % "\n".join(render(self.raw)[-20:]))
            if not self.pump(until):
                time.sleep(0.02)
        while self.pump(time.monotonic() + 0.05) and select.select([self.fd], [], [], 0)[0]:
            pass
        os.close(self.fd)

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.status = -1
        try:
            os.close(self.fd)
        except OSError:
            pass


def tty_script(lines):
    """The keys of a terminal transcript: [(entry lines, ctrl_c)] and whether
    it ends at a bare prompt (the screen is then taken as it is, the session
    left open)."""
    keys, ctrl_d, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        m = PROMPT.match(line) if line.startswith("stratsim>") else None
        if line.rstrip() == "stratsim>" and i == len(lines) - 1:
            ctrl_d = True
        elif m:
            entry = [m.group(2)]
            while i + 1 < len(lines) and CONT.match(lines[i + 1]):
                i += 1
                entry.append(CONT.match(lines[i]).group(1))
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            ctrl_c = ("wait" if nxt.startswith("^C") else
                      "output" if entry[-1].rstrip().endswith("-- Ctrl-C") else None)
            keys.append((entry, ctrl_c))
        i += 1
    return keys, ctrl_d


class Check:
    def __init__(self, runner, update):
        self.runner, self.update = runner, update
        self.failures = 0
        self.checked = 0
        self.cannot = []

    def report(self, block, what, expected, actual):
        self.failures += 1
        print("doctest: %s (%s block marked at line %d): %s" % (block.where(), block.kind,
                                                                  block.mark_line, what))
        diff = difflib.unified_diff(expected, actual, "expected", "actual", lineterm="", n=2)
        for d in diff:
            print("    " + d)

    def compare(self, block, expected, actual, what):
        """True if they match; records the update."""
        if match(expected, actual) is not None:
            return expected, True
        if self.update:
            new = updated(expected, actual)
            if new is None:
                self.cannot.append("%s: %s: the output changed shape; edit the block by hand"
                                   % (block.where(), what))
                self.report(block, what + " (not updated)", expected, actual)
                return expected, False
            return new, False
        self.report(block, what, expected, actual)
        return expected, False

    def run_file(self, path, blocks):
        work = self.runner.setup()
        try:
            lua_blocks = [b for b in blocks if b.kind in ("lua", "lua-output")]
            lua_out = None
            for b in blocks:
                if lua_out is None and b in lua_blocks:
                    lua_out = self.run_lua(work, lua_blocks)  # all at the first lua block
                try:
                    getattr(self, "do_" + b.kind.replace("-", "_"))(work, b, lua_out)
                except ValueError as e:
                    self.failures += 1
                    print("doctest: %s: %s" % (b.where(), e))
                except subprocess.TimeoutExpired:
                    self.failures += 1
                    print("doctest: %s: timed out after %d s" % (b.where(), TIMEOUT))
                self.checked += 1
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def do_sh(self, work, b, _):
        new = []
        for cmd, exp in sh_commands(b.lines):
            got = out_lines(self.runner.sh(work, cmd))
            res, _ = self.compare(b, exp, got, "$ " + cmd.split("\n")[0])
            new += ["$ " + cmd.split("\n")[0]] + cmd.split("\n")[1:] + res
        b.new = new

    def must_succeed(self, work, b, cmd):
        p = subprocess.run(["sh", "-c", cmd], cwd=work, env=self.runner.env(work), input=b"",
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
        if p.returncode != 0:
            self.failures += 1
            print("doctest: %s (%s block marked at line %d): exit status %d: %s\n%s"
                  % (b.where(), b.kind, b.mark_line, p.returncode, cmd,
                     "".join("    " + l + "\n" for l in out_lines(p.stdout.decode("utf-8", "replace")))))

    def do_file(self, work, b, _):
        name = b.arg
        if not name or os.path.isabs(name) or ".." in name.split("/"):
            raise ValueError("'file' needs a relative file name")
        path = os.path.join(work, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(b.lines) + "\n")

    def do_setup(self, work, b, _):
        if not b.arg:
            raise ValueError("'setup' needs a command")
        self.must_succeed(work, b, b.arg)

    def do_run(self, work, b, _):
        for cmd, out in sh_commands(["$ " + l if not l.startswith(" ") else l for l in b.lines]):
            if out:
                raise ValueError("a 'run' block shows no output (use 'sh'): " + out[0])
            self.must_succeed(work, b, cmd)

    def do_output(self, work, b, _):
        if not b.arg:
            raise ValueError("'output' needs a command")
        got = out_lines(self.runner.sh(work, b.arg))
        b.new, _ = self.compare(b, b.lines, got, "output of " + b.arg)

    def do_tty(self, work, b, _):
        lines = list(b.lines)
        if lines and lines[0].startswith("$ "):
            cmd, shown, lines = lines[0][2:], [lines[0]], lines[1:]
        elif b.arg:
            cmd, shown = b.arg, []
        else:
            raise ValueError("a 'tty' block starts with '$ COMMAND', or the marker names the command")
        keys, last_prompt = tty_script(lines)
        env = self.runner.env(work)
        t = Tty(cmd, work, env)
        try:
            for entry, ctrl_c in keys:
                for k, text in enumerate(entry):
                    t.wait(t.ready, "a prompt")
                    n = t.prompts()
                    t.send(text.encode() + b"\r")
                    if k < len(entry) - 1 or not ctrl_c:
                        t.wait(lambda: t.prompts() > n and t.ready(), "the prompt after '%s'" % text)
                if ctrl_c:
                    t.wait(lambda: not t.reading(), "the command '%s' running" % entry[-1])
                    size = len(t.raw)
                    until = time.monotonic() + TTY_CTRL_C_AFTER
                    while time.monotonic() < until and t.pump(until):
                        pass
                    if ctrl_c == "output":  # "-- Ctrl-C": once it shows something (a progress bar)
                        t.wait(lambda: re.search(rb"[^\s]", t.raw[size:]), "output of '%s'" % entry[-1])
                    t.send(b"\x03")
            if last_prompt:  # the screen as it is now, the session still open
                t.wait(t.ready, "the last prompt")
                end = time.monotonic() + 0.2
                while time.monotonic() < end and t.pump(end):
                    pass
            else:
                t.finish()
        finally:
            t.kill()
        got = render(t.raw)
        # After an entry interrupted once it showed output ("-- Ctrl-C"), the
        # terminal's echo "^C" stays on the screen only when the program had
        # not redrawn its line yet (a slow build): not part of the transcript.
        for i in range(1, len(got)):
            if got[i - 1].rstrip().endswith("-- Ctrl-C") and got[i].startswith("^C"):
                got[i] = got[i][2:]
        if not shown:  # the command is in the marker: the screen from the first prompt
            first = [i for i, l in enumerate(got) if l.startswith("stratsim>")]
            got = got[first[0]:] if first else got
        res, _ = self.compare(b, lines, got, "terminal session of " + cmd)
        b.new = shown + res

    def do_measured(self, work, b, _):
        """Measurements of one machine: not run; a table must be well formed
        (every row with the header's number of cells)."""
        if not b.arg:
            raise ValueError("'measured' needs how it was measured (e.g. make bench)")
        if b.lines and b.lines[0].startswith("|"):
            cells = [len(split_row(l)) for l in b.lines]
            if len(b.lines) < 2 or not re.match(r"^\|(\s*:?-+:?\s*\|)+\s*$", b.lines[1]):
                raise ValueError("a 'measured' table needs a header and a |---| line")
            for n, c in enumerate(cells):
                if c != cells[0]:
                    raise ValueError("table row %d has %d cells, the header %d" % (n + 1, c, cells[0]))

    def do_repl(self, work, b, _):
        entries = repl_entries(b.lines)
        feed = "".join(e + "\n" + 'do io.stdout:write("%s\\n") end\n' % SENTINEL
                       for _, e, _ in entries)
        cmd = "stratsim repl" + (" " + b.arg if b.arg else "")
        text = self.runner.sh(work, cmd, stdin=feed.encode())
        parts = text.split(SENTINEL + "\n")
        if len(parts) != len(entries) + 1:
            raise ValueError("the session stopped early:\n" + text)
        new = []
        for (prompt, entry, exp), got in zip(entries, parts):
            res, _ = self.compare(b, exp, out_lines(got), "> " + entry.split("\n")[0])
            elines = entry.split("\n")
            new += [prompt + elines[0]] + [">> " + l for l in elines[1:]] + res
        b.new = new

    def run_lua(self, work, blocks):
        """Run the lua blocks of a file in one chunk. Returns {id(block): info}."""
        src = [LUA_PRELUDE]
        info, base = {}, 0
        for n, b in enumerate(blocks):
            want, where = [], []
            if b.kind == "lua":
                code, want, where = lua_arrows(b.lines, base)
                src.append("__dt_block(%d)" % n)
                src += code
            info[id(b)] = {"n": n, "base": base, "want": want, "where": where}
            base += len(want)
        src.append("__dt_block(-1)")
        prog = os.path.join(work, ".doctest.lua")
        arrows = os.path.join(work, ".doctest.arrows")
        with open(prog, "w", encoding="utf-8") as f:
            f.write("\n".join(src) + "\n")
        text = self.runner.sh(work, "DOCTEST_ARROWS=%s stratsim repl -e 'dofile(\".doctest.lua\")'"
                              % arrows)
        printed, cur = {}, None
        for line in text.split("\n"):
            m = re.match("^\x01DOCTEST\x01(-?\\d+)$", line)
            if m:
                cur = int(m.group(1))
                printed[cur] = []
            elif cur is not None:
                printed[cur].append(line.rstrip())
        got = {}
        if os.path.exists(arrows):
            with open(arrows, encoding="utf-8") as f:
                for line in f:
                    k, _, v = line.rstrip("\n").partition("\t")
                    got[int(k)] = v
        for v in info.values():
            v.update(printed=printed, got=got, text=text)
        return info

    def do_lua(self, work, b, lua_out):
        inf = lua_out[id(b)]
        n, printed = inf["n"], inf["printed"]
        if n not in printed:
            raise ValueError("the Lua chunk stopped before this block:\n" + inf["text"])
        new = list(b.lines)
        for idx, (value, comment) in enumerate(inf["want"]):
            li = inf["where"][idx]
            got = inf["got"].get(inf["base"] + idx, "(not reached)")
            res, ok = self.compare(b, [value], [got], b.lines[li].strip())
            if not ok:
                line = b.lines[li]
                new[li] = line[:line.index("--> ") + 4] + res[0] + comment
        b.new = new
        later = [k for k in printed if k > n or k == -1]
        if not later:
            raise ValueError("the Lua chunk failed in this block:\n"
                             + "\n".join(printed[n][-20:]))

    def do_lua_output(self, work, b, lua_out):
        inf = lua_out[id(b)]
        prev, printed = inf["n"] - 1, inf["printed"]
        if prev < 0 or prev not in printed:
            raise ValueError("no lua block before this lua-output block ran:\n" + inf["text"])
        got = list(printed[prev])
        while got and not got[-1]:
            got.pop()
        b.new, _ = self.compare(b, b.lines, got, "printed by the lua block before")


def rewrite(path, text, blocks):
    lines = text.split("\n")
    for b in sorted(blocks, key=lambda x: -x.start):
        if b.new is None:
            continue
        end = b.start + len(b.lines)
        lines[b.start:end] = [(b.indent + l) if l else "" for l in b.new]
    new = "\n".join(lines)
    if new != text:
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(new)
        os.replace(path + ".tmp", path)
        return True
    return False


def main(argv):
    args = argv[1:]
    update = lst = False
    stratsim = build = None
    files = []
    while args:
        a = args.pop(0)
        if a == "--update":
            update = True
        elif a == "--list":
            lst = True
        elif a == "--stratsim" and args:
            stratsim = os.path.abspath(args.pop(0))
        elif a == "--build" and args:
            build = os.path.abspath(args.pop(0))
        elif a.startswith("-"):
            print(__doc__, file=sys.stderr)
            return 2
        else:
            files.append(a)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not files:
        files = [os.path.join(root, "README.md")] + sorted(
            os.path.join(root, "docs", f) for f in os.listdir(os.path.join(root, "docs"))
            if f.endswith(".md"))
    build = build or os.path.join(root, "build")
    stratsim = stratsim or os.path.join(build, "stratsim")
    runner = Runner(stratsim, build, root)
    check = Check(runner, update)
    per_file = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        blocks = read_blocks(os.path.relpath(path, root), text)
        per_file.append((path, text, blocks))
    if lst:
        for path, _, blocks in per_file:
            for b in blocks:
                print("%s  %s%s" % (b.where(), b.kind, (" " + b.arg) if b.arg else ""))
        return 0
    for path, text, blocks in per_file:
        if blocks:
            check.run_file(os.path.relpath(path, root), blocks)
    nfiles = sum(1 for _, _, b in per_file if b)
    if update:
        changed = [os.path.relpath(p, root) for p, t, b in per_file if b and rewrite(p, t, b)]
        for c in check.cannot:
            print("doctest: " + c)
        print("doctest: updated %s" % (", ".join(changed) if changed else "nothing"))
        return 1 if check.cannot else 0
    print("doctest: %d block%s in %d file%s: %s" % (
        check.checked, "" if check.checked == 1 else "s", nfiles, "" if nfiles == 1 else "s",
        "all match" if not check.failures else
        "%d mismatch%s" % (check.failures, "" if check.failures == 1 else "es")))
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

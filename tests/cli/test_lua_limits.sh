# tests/cli/test_lua_limits.sh - Lua-side limits: the include root
# (--root, links, FIFOs, pcall), the bound on print output, and the
# messages of item 10 (--max-instructions 1e7, -o "", --help into a full
# device, the SIGINT message). The bad-input cases are in tests/bad.

# A scenario directory with a base file, a sub-directory and a file outside.
include_tree() {
    mkdir -p proj/sub other
    cp "$ROOT/scenarios/baseline.lua" proj/sub/base.lua
    cp "$ROOT/scenarios/baseline.lua" other/outside.lua
}

test_include_root_default_and_widened() {
    include_tree
    printf 'return stratsim.include("sub/base.lua")\n' > proj/in.lua
    printf 'return stratsim.include("../other/outside.lua")\n' > proj/up.lua
    run "$STRATSIM" check proj/in.lua; expect_rc 0; expect_out "scenario 'baseline'"
    run "$STRATSIM" check proj/up.lua; expect_rc 1
    expect_err "proj/up.lua:1: stratsim.include: proj/../other/outside.lua is outside the root $(pwd -P)/proj"
    expect_err "widen it with --root DIR"
    # --root widens it, for every verb that loads scenarios
    run "$STRATSIM" check proj/up.lua --root .; expect_rc 0
    run "$STRATSIM" run proj/up.lua --root . -o up.csv; expect_rc 0
    [ -s up.csv ] || fail "run --root wrote nothing"
    run "$STRATSIM" mc proj/up.lua --root . --runs 2 --seed 1 -o mc.csv; expect_rc 0
    # and a --root that is not a directory is a usage error
    run "$STRATSIM" check proj/up.lua --root nowhere; expect_rc 2; expect_err "--root nowhere: not a directory"
    run "$STRATSIM" check proj/up.lua --root proj/in.lua; expect_rc 2
    # a root below the file's directory is no wider than it says
    run "$STRATSIM" check proj/in.lua --root proj/sub; expect_rc 0
    run "$STRATSIM" check proj/in.lua --root other; expect_rc 1; expect_err "outside the root"
}

test_include_links_resolved() {
    include_tree
    ln -s ../other/outside.lua proj/link.lua
    ln -s sub/base.lua proj/inside_link.lua
    ln -s /etc/passwd proj/passwd.lua
    printf 'return stratsim.include("link.lua")\n' > proj/a.lua
    printf 'return stratsim.include("inside_link.lua")\n' > proj/b.lua
    printf 'return stratsim.include("passwd.lua")\n' > proj/c.lua
    run "$STRATSIM" check proj/a.lua; expect_rc 1; expect_err "proj/link.lua is outside the root"
    run "$STRATSIM" check proj/b.lua; expect_rc 0
    run "$STRATSIM" check proj/c.lua; expect_rc 1; expect_err "proj/passwd.lua is outside the root"
    # nothing of the file leaks into the message
    case "$ERR" in *root:*|*daemon*|*nologin*) fail "contents of /etc/passwd leaked: $ERR";; esac
}

test_include_fifo_does_not_block() {
    include_tree
    mkfifo proj/fifo.lua
    printf 'return stratsim.include("fifo.lua")\n' > proj/f.lua
    if timeout 10 "$STRATSIM" check proj/f.lua >stdout 2>stderr; then RC=0; else RC=$?; fi
    ERR=$(cat stderr)
    [ "$RC" != 124 ] || fail "include of a FIFO blocked"
    expect_rc 1; expect_err "proj/fifo.lua is not a regular file"
}

test_include_relative_to_including_file() {
    include_tree
    # pcall and a load()ed chunk: still relative to the including file, from
    # any working directory
    printf 'local ok, sc = pcall(stratsim.include, "sub/base.lua")\nassert(ok, sc)\nreturn sc\n' > proj/p.lua
    printf 'return load("return stratsim.include(\\"sub/base.lua\\")")()\n' > proj/l.lua
    dir=$(pwd)
    cd / && run "$STRATSIM" check "$dir/proj/p.lua"; expect_rc 0; expect_out "scenario 'baseline'"
    run "$STRATSIM" check "$dir/proj/l.lua"; expect_rc 0
    cd "$dir"
    # a file named in the working directory but not next to the includer
    cp proj/sub/base.lua here.lua
    printf 'local ok, e = pcall(stratsim.include, "here.lua")\nassert(not ok)\nerror(e, 0)\n' > proj/q.lua
    run "$STRATSIM" check proj/q.lua; expect_rc 1; expect_err "cannot open proj/here.lua"
}

test_print_output_bounded() {
    printf 'local s = ("p"):rep(1e6)\nfor i = 1, 100 do print(s) end\nprint("after")\n' > p.lua
    run "$STRATSIM" run p.lua; expect_rc 0
    n=$(wc -c < stderr)
    [ "$n" -le $((4 * 1024 * 1024 + 200)) ] || fail "print wrote $n bytes (limit 4 MiB)"
    [ "$n" -ge $((4 * 1024 * 1024)) ] || fail "print wrote only $n bytes"
    expect_err "[print: output limit of 4 MiB reached; further print output is dropped]"
    [ "$(grep -c 'output limit' stderr)" = 1 ] || fail "the note is not printed once"
    case "$ERR" in *after*) fail "print went on past the limit";; esac
    # small prints are untouched
    printf 'print(1, "a", nil)\nprint()\n' > q.lua
    run "$STRATSIM" run q.lua; expect_rc 0
    [ "$(cat stderr)" = "$(printf '1\ta\tnil\n')" ] || fail "print output changed: $(cat stderr | od -c | head)"
}

test_max_instructions_notation() {
    printf 'while true do end\n' > loop.lua
    run "$STRATSIM" run loop.lua --max-instructions 1e7; expect_rc 1
    expect_err "loop.lua:1: instruction limit exceeded (10000000 instructions)"
    run "$STRATSIM" run loop.lua --max-instructions=2.5e6; expect_rc 1
    expect_err "instruction limit exceeded (2500000 instructions)"
    run "$STRATSIM" run loop.lua --max-instructions 1.5; expect_rc 2; expect_err "--max-instructions"
    run "$STRATSIM" run loop.lua --max-instructions 0; expect_rc 2
    run "$STRATSIM" run loop.lua --max-instructions -1e7; expect_rc 2
    run "$STRATSIM" run loop.lua --max-instructions 1e99; expect_rc 2
    run "$STRATSIM" run loop.lua --max-memory 1e1 --max-instructions 1e6; expect_rc 1
    expect_err "instruction limit exceeded (1000000 instructions)"
}

test_empty_output_name_is_usage_error() {
    for verb in run compare mc sens optimize; do
        case $verb in
            mc) extra="--runs 2 --seed 1";;
            *) extra="";;
        esac
        # shellcheck disable=SC2086
        run "$STRATSIM" $verb "$DATA/analysis.lua" $extra -o ""; expect_rc 2
        expect_err "-o needs a file name"
    done
    run "$STRATSIM" plot x.csv -o ""; expect_rc 2; expect_err "-o needs a file name"
    expect_no_temp .
}

test_help_into_full_device() {
    [ -w /dev/full ] || fail "/dev/full is not available"
    for verb in "" run check compare mc sens calibrate optimize plot repl; do
        # shellcheck disable=SC2086
        if "$STRATSIM" $verb --help >/dev/full 2>err; then
            fail "'stratsim $verb --help' into /dev/full exited 0"
        else
            rc=$?
            [ "$rc" = 1 ] || fail "'stratsim $verb --help' into /dev/full exited $rc"
        fi
    done
    "$STRATSIM" --help >/dev/full 2>err && fail "--help exit 0"
    grep -q "cannot write to standard output" err || fail "no message: $(cat err)"
    if "$STRATSIM" --version >/dev/full 2>/dev/null; then fail "--version into /dev/full exited 0"; fi
    # and into a normal file it works
    "$STRATSIM" run --help > h.txt || fail "run --help failed"
    grep -q -- "--root DIR" h.txt || fail "run --help lacks --root"
}

test_sigint_message_once() {
    "$STRATSIM" mc "$DATA/analysis.lua" --runs 100000000 --seed 1 --threads 1 \
        -o mc.csv >stdout 2>stderr &
    pid=$!
    sleep 2
    kill -INT $pid
    if wait $pid; then RC=0; else RC=$?; fi
    ERR=$(cat stderr)
    [ "$RC" = 1 ] || fail "mc after SIGINT: exit $RC"
    expect_err "stratsim: interrupted after "
    expect_err " runs; nothing was written"
    case "$ERR" in *"interrupted: interrupted"*) fail "message repeats itself: $ERR";; esac
    [ "$(grep -c interrupted stderr)" = 1 ] || fail "more than one 'interrupted': $ERR"
    expect_no_file mc.csv
}

test_series_uses_the_include_root() {
    include_tree
    printf 'time,value\n2022,1\n2030,2\n' > other/out.csv
    cp other/out.csv proj/sub/in.csv
    mkfifo proj/fifo.csv
    for name in ../other/out.csv sub/in.csv fifo.csv; do
        cat > "proj/s_$(basename "$name" .csv).lua" <<EOF2
local s = stratsim.series { file = "$name" }
return stratsim.include("sub/base.lua"):with { name = "s" }
EOF2
    done
    run "$STRATSIM" check proj/s_out.lua; expect_rc 1
    expect_err "stratsim.series: proj/../other/out.csv is outside the root"
    run "$STRATSIM" check proj/s_out.lua --root .; expect_rc 0
    run "$STRATSIM" check proj/s_in.lua; expect_rc 0
    if timeout 10 "$STRATSIM" check proj/s_fifo.lua >stdout 2>stderr; then RC=0; else RC=$?; fi
    ERR=$(cat stderr)
    [ "$RC" != 124 ] || fail "series on a FIFO blocked"
    expect_rc 1; expect_err "proj/fifo.csv is not a regular file"
}

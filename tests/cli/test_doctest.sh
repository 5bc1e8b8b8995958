# tests/cli/test_doctest.sh - scripts/doctest.py, the runner behind `make
# doctest`: every kind of marked example passes when the output matches,
# a changed number fails with a diff and exit status 1, elisions ("..." lines
# and "..." inside a line) accept what they stand for, --update rewrites the
# shown output from the real output (keeping the elided lines) after which
# the file passes, and a failing command in a `run` block fails.

doctest() { run python3 "$ROOT/scripts/doctest.py" --stratsim "$STRATSIM" "$@"; }

write_doc() {
    cat > doc.md <<'EOF'
# A page

<!-- doctest: sh -->

    $ stratsim check scenarios/baseline.lua
    scenarios/baseline.lua: ok: ...
    $ echo one; echo two; echo three
    one
    ...

<!-- doctest: output printf 'a 1.5\nb 2.5\nc 3.5\n' -->

    a 1.5
    b 2.5
    c 3.5

<!-- doctest: repl -->

    stratsim> 6 * 7
    42
    stratsim> function sq(x)
    >>   return x * x
    >> end
    stratsim> sq(12), "x"
    144	x

<!-- doctest: file sc.lua -->

    return stratsim.scenario { time = { start = 0, stop = 2, step = 1 },
      segments = { { id = "m", size = 100 } },
      providers = { { id = "a", share = { m = 0.5 } }, { id = "b", share = { m = 0.5 } } } }

<!-- doctest: lua -->

    local r = dofile("sc.lua"):run()
    r:value("size", nil, "m")                  --> 100.0 (no growth)
    print(#r:times())                          --> 3
    print("printed")

<!-- doctest: lua-output -->

    printed

<!-- doctest: run -->

    stratsim run sc.lua -o out/sc.csv
    test -s out/sc.csv.json
EOF
}

test_doctest_passes_on_matching_examples() {
    write_doc
    doctest doc.md
    expect_rc 0; expect_out "doctest: 7 blocks in 1 file: all match"
    doctest --list doc.md
    expect_rc 0; expect_out "doc.md:5  sh"; expect_out "doc.md:29  file sc.lua"
}

test_doctest_fails_on_a_changed_number_and_update_fixes_it() {
    write_doc
    sed -i 's/^    b 2.5$/    b 2.6/; s/^    144\tx$/    145\tx/; s/--> 100.0 (no growth)/--> 99.0 (no growth)/' doc.md
    cp doc.md before.md
    doctest doc.md
    expect_rc 1
    expect_out "doctest: 7 blocks in 1 file: 3 mismatches"
    expect_out "-b 2.6"; expect_out "+b 2.5"
    expect_out "-145	x"; expect_out "+144	x"
    expect_out "-99.0"; expect_out "+100.0"
    cmp -s doc.md before.md || fail "a check must not change the file"
    doctest --update doc.md
    expect_rc 0; expect_out "updated"
    grep -q '^    b 2.5$' doc.md || fail "output block not updated"
    grep -q '^    144	x$' doc.md || fail "repl output not updated"
    grep -q -- '--> 100.0 (no growth)$' doc.md || fail "arrow not updated (comment kept)"
    grep -q '^    scenarios/baseline.lua: ok: \.\.\.$' doc.md || fail "elided line not kept"
    grep -q '^    \.\.\.$' doc.md || fail "elision line not kept"
    doctest doc.md
    expect_rc 0; expect_out "all match"
}

test_doctest_elisions_are_not_wildcards_for_everything() {
    write_doc
    # "one" then "..." matches; a wrong first line does not
    sed -i 's/^    one$/    uno/' doc.md
    doctest doc.md
    expect_rc 1; expect_out "-uno"
}

test_doctest_run_block_fails_on_failing_command() {
    write_doc
    sed -i 's|^    test -s out/sc.csv.json$|    test -s out/missing.json|' doc.md
    doctest doc.md
    expect_rc 1; expect_out "exit status 1: test -s out/missing.json"
}

test_doctest_bad_marker_is_an_error() {
    printf '<!-- doctest: bogus -->\n\n    x\n' > bad.md
    doctest bad.md
    [ "$RC" != 0 ] || fail "unknown kind accepted"
    expect_err "unknown doctest kind 'bogus'"
}

test_doctest_update_repl_block_with_more_lines() {
    printf '%s\n' '<!-- doctest: repl -->' '' '    stratsim> 1, 2' '    stratsim> function f()' \
        '    >>   return 4' '    >> end' '    stratsim> f()' '    5' > r.md
    doctest r.md
    expect_rc 1
    doctest --update r.md
    expect_rc 0
    printf '%s\n' '<!-- doctest: repl -->' '' '    stratsim> 1, 2' '    1	2' '    stratsim> function f()' \
        '    >>   return 4' '    >> end' '    stratsim> f()' '    4' > want.md
    cmp -s r.md want.md || fail "updated block: $(cat r.md)"
    doctest r.md
    expect_rc 0
}

# tty blocks: a session on a pseudo-terminal, compared as the screen shows it
# (the banner, typed entries, the >> prompt, "^C" echoed by the terminal);
# Ctrl-C during an analysis ("-- Ctrl-C"); a wrong line fails, --update fixes it.
test_doctest_tty_session() {
    python3 -c 'import pty, termios' 2>/dev/null || skip "python3 without the pty module"
    "$STRATSIM" repl --help | grep -q "^Line editing: libedit" || skip "stratsim built without line editing"
    cat > t.md <<'DOC'
<!-- doctest: tty -->

    $ stratsim repl scenarios/baseline.lua
    stratsim ... (Lua ...): help() lists the API, Tab completes, Ctrl-D quits.
    sc = scenario 'baseline' from scenarios/baseline.lua
    stratsim> function sq(x)
    >>   return x * x
    >> end
    stratsim> sq(12), "x"
    144	x
    stratsim>

<!-- doctest: tty stratsim repl scenarios/baseline.lua -->

    stratsim> while true do end
    ^Cinterrupted!
    stack traceback:
            stdin:1: in main chunk
            [C]: in ?
    stratsim> r = sc:montecarlo{runs = 1000000}   -- Ctrl-C
    stdin:1: montecarlo: interrupted after ... of 1,000,000 runs
    stratsim> r
    nil
    stratsim>
DOC
    doctest t.md
    expect_rc 0; expect_out "doctest: 2 blocks in 1 file: all match"
    sed -i 's/^    144\tx$/    145\tx/; s/^    nil$/    false/' t.md
    doctest t.md
    expect_rc 1; expect_out "2 mismatches"
    expect_out "-145	x"; expect_out "+144	x"; expect_out "-false"; expect_out "+nil"
    sed -i 's/^    false$/    nil/' t.md  # not a number: --update cannot fix that one
    doctest --update t.md
    expect_rc 0
    grep -q '^    144	x$' t.md || fail "tty block not updated: $(cat t.md)"
    grep -q '^    stratsim \.\.\. (Lua \.\.\.): help' t.md || fail "elided line not kept"
    doctest t.md
    expect_rc 0
}

# Every option that `stratsim VERB --help` lists is described in the man page
# (docs/stratsim.1, where roff writes a hyphen as \-) and in docs/*.md, and
# every verb of `stratsim --help` has its section in the man page.
test_doctest_help_options_are_documented() {
    sed 's/\\-/-/g' "$ROOT/docs/stratsim.1" > man.txt
    cat "$ROOT"/docs/*.md "$ROOT/README.md" > docs.txt
    n=0
    for v in run check compare mc sens calibrate optimize sweep plot repl; do
        grep -q "^\.SS $v\$" "$ROOT/docs/stratsim.1" || fail "no man page section for $v"
        run "$STRATSIM" "$v" --help; expect_rc 0
        for o in $(printf '%s\n' "$OUT" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
            n=$((n + 1))
            grep -q -- "$o\\([^a-z-]\\|$\\)" man.txt || fail "$v $o: not in docs/stratsim.1"
            grep -q -- "$o\\([^a-z-]\\|$\\)" docs.txt || fail "$v $o: not in docs/*.md"
        done
    done
    [ "$n" -gt 100 ] || fail "only $n options found in the help texts"
}

# tests/cli/test_bad.sh - every scenario in tests/bad/ is rejected with the
# expected exit status and message, and leaves no output file.

test_bad_corpus() {
    n=0
    for f in "$ROOT"/tests/bad/*.lua; do
        exp=$(sed -n 's/^-- expect: //p' "$f" | head -n 1)
        code=${exp%% *}
        frag=${exp#* }
        args=$(sed -n 's/^-- args: //p' "$f" | head -n 1)
        if (cd "$(dirname "$f")" && "$STRATSIM" run "$(basename "$f")" -o "$T/out.csv" $args) \
            >"$T/stdout" 2>"$T/stderr"; then RC=0; else RC=$?; fi
        ERR=$(cat "$T/stderr")
        [ "$RC" = "$code" ] || fail "$(basename "$f"): exit $RC, expected $code"
        case "$ERR" in *"$frag"*) ;; *) fail "$(basename "$f"): stderr lacks '$frag'";; esac
        expect_no_file "$T/out.csv"
        n=$((n + 1))
    done
    [ "$n" -ge 8 ] || fail "corpus too small ($n)"
    [ ! -e /tmp/stratsim-pwned ] || fail "sandbox escape created a file"
}

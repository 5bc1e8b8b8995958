# tests/cli/test_bad.sh - every case in tests/bad/ is rejected with the
# expected exit status and message, in bounded time, without a crash, and
# leaves no output (nor temporary) file. See tests/bad/README.md for the
# header lines a case may carry.

# The value of header line "-- NAME: VALUE" in file $2 (first one), or $3.
bad_header() {
    v=$(sed -n "s/^-- $1: //p" "$2" | head -n 1)
    [ -n "$v" ] && printf '%s\n' "$v" || printf '%s\n' "${3-}"
}

# bad_corpus I N: the cases whose position in the sorted corpus is I mod N
# (the corpus is the slowest test file; four functions let the test runner
# share it out).
bad_corpus() {
    n=0
    k=0
    failed=0
    mkdir -p "$T/out"
    for f in "$ROOT"/tests/bad/*.lua; do
        k=$((k + 1))
        [ $((k % $2)) = "$1" ] || continue
        name=$(basename "$f")
        exp=$(bad_header expect "$f")
        code=${exp%% *}
        frag=${exp#* }
        cmd=$(bad_header cmd "$f" "run %f -o %o")
        args=$(bad_header args "$f")
        secs=$(bad_header timeout "$f" 60)
        case "$code" in 1|2) ;; *) echo "    $name: bad or missing '-- expect: CODE FRAGMENT' line" >&2; failed=1; continue;; esac
        # %f: the case's file name, %o: the output file
        argv=$(printf '%s\n' "$cmd $args" | sed -e "s|%f|$name|g" -e "s|%o|$T/out/out.csv|g")
        rm -rf "$T/out" && mkdir "$T/out"
        # shellcheck disable=SC2086 # word splitting of the header is intended
        if (cd "$(dirname "$f")" && exec timeout -k 5 "$secs" "$STRATSIM" $argv) \
            >"$T/stdout" 2>"$T/stderr"; then RC=0; else RC=$?; fi
        ERR=$(cat "$T/stderr")
        if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
            echo "    $name: did not finish within $secs s" >&2; failed=1
        elif [ "$RC" != "$code" ]; then
            echo "    $name: exit $RC, expected $code; stderr: $(head -c 400 "$T/stderr")" >&2; failed=1
        fi
        case "$ERR" in *"$frag"*) ;; *) echo "    $name: stderr lacks '$frag'; got: $(head -c 400 "$T/stderr")" >&2; failed=1;; esac
        # every further "-- expect-also: FRAGMENT" line must be there too
        sed -n 's/^-- expect-also: //p' "$f" > "$T/also"
        while IFS= read -r more; do
            case "$ERR" in *"$more"*) ;; *) echo "    $name: stderr lacks '$more'" >&2; failed=1;; esac
        done < "$T/also"
        case "$ERR" in *PANIC*|*AddressSanitizer*|*"runtime error"*|*LeakSanitizer*)
            echo "    $name: crash or sanitizer report: $(head -c 400 "$T/stderr")" >&2; failed=1;; esac
        if [ -n "$(ls -A "$T/out")" ]; then
            echo "    $name: left files behind: $(ls -A "$T/out")" >&2; failed=1
        fi
        n=$((n + 1))
    done
    [ "$n" -ge 15 ] || fail "corpus too small ($n cases in this quarter, expected at least 15)"
    [ ! -e /tmp/stratsim-pwned ] || fail "sandbox escape created /tmp/stratsim-pwned"
    [ "$failed" = 0 ] || fail "bad-input corpus: some cases failed (see above)"
}
test_bad_corpus_1() { bad_corpus 0 4; }
test_bad_corpus_2() { bad_corpus 1 4; }
test_bad_corpus_3() { bad_corpus 2 4; }
test_bad_corpus_4() { bad_corpus 3 4; }

# tests/cli/test_mpi.sh - the analysis verbs under mpirun (docs/scale-out.md)
# on this machine: 1, 2 and 3 ranks give the bytes of one process with
# --threads 1 (CSV; the sidecar differs only by "ranks") for mc, sens
# (tornado and Sobol), sweep and optimize, also with idle ranks and with
# two scenarios in one Monte Carlo; a run failing on rank 2 (or in rank 0's
# own block) stops every rank with one message from rank 0 and nothing
# written; a scenario file or a stratsim version that differs between ranks
# is detected; an interrupted mpirun (SIGINT, SIGTERM) leaves nothing; a
# usage error is printed once. Ranks talk through shared memory
# only (btl self,vader), so no network is needed.

A="$DATA/analysis.lua"

# Under `make asan`, leak detection is off in MPI ranks: Open MPI leaves its own
# allocations (in plugins it has unloaded) at exit. stratsim's distributed code
# paths in the core are leak-checked by test_sweep (an in-memory transport).
NOLEAK="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# mpi N ARGS...: stratsim's ARGS on N ranks of this machine
mpi() {
    n=$1
    shift
    if [ "$(id -u)" = 0 ]; then
        set -- --allow-run-as-root "$@"
    fi
    ASAN_OPTIONS=$NOLEAK OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none \
        timeout 300 mpirun -q --oversubscribe -np "$n" "$@"
}

# same_pair REF OUT N: identical CSV, sidecars equal but for "ranks": N and
# the Monte Carlo's memory estimate (rank 0's process, which holds fewer blocks
# in flight and a buffer for the blocks it receives)
same_pair() {
    cmp "$1" "$2" || { fail "$2 differs from $1"; return 1; }
    python3 - "$1.json" "$2.json" "$3" <<'PY' || fail "sidecar $2.json"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert "ranks" not in a and b.pop("ranks") == int(sys.argv[3]), b
assert a == b, [k for k in a if a[k] != b.get(k)]
PY
}

test_mpi_mc_identical() {
    command -v mpirun >/dev/null || { fail "mpirun is needed (scripts/install-deps.sh)"; return 1; }
    # 2500 runs: three blocks of 1024, the last one partial
    run "$STRATSIM" mc "$A" --runs 2500 --seed 3 --threads 1 -o one.csv; expect_rc 0
    for n in 1 2 3; do
        run mpi $n "$STRATSIM" mc "$A" --runs 2500 --seed 3 --threads 1 -o mpi$n.csv
        expect_rc 0; expect_no_err
        same_pair one.csv mpi$n.csv $n
    done
    # threads inside the ranks
    run mpi 2 "$STRATSIM" mc "$A" --runs 2500 --seed 3 --threads 2 -o mt.csv; expect_rc 0
    cmp one.csv mt.csv || fail "2 ranks x 2 threads differ"
    # STRATSIM_MPI_STATS: one line per rank, the same output
    export STRATSIM_MPI_STATS=1
    run mpi 3 "$STRATSIM" mc "$A" --runs 2500 --seed 3 --threads 1 -o st.csv
    unset STRATSIM_MPI_STATS
    expect_rc 0
    cmp one.csv st.csv || fail "with STRATSIM_MPI_STATS the output differs"
    for r in 0 1 2; do
        grep -q "^stratsim: mc: rank $r of 3: [0-9.]* s CPU in all, [0-9.]* s in the Monte Carlo, of which merging [0-9.]* s" stderr ||
            fail "no figures of rank $r"
    done
    [ "$(grep -c 'rank 0 of 3' stderr)" = 1 ] || fail "rank 0 reported more than once"
    python3 -c 'import json; assert json.load(open("mpi3.csv.json"))["mc"]["block"] == 1024' ||
        fail "block size"
}

test_mpi_mc_idle_ranks_and_scenarios() {
    # one block of 500 runs on 3 ranks: ranks 1 and 2 run nothing but still
    # merge their share of the series of the block rank 0 sends them
    run "$STRATSIM" mc "$A" --runs 500 --seed 4 --threads 1 -o one.csv; expect_rc 0
    run mpi 3 "$STRATSIM" mc "$A" --runs 500 --seed 4 --threads 1 -o idle.csv; expect_rc 0
    same_pair one.csv idle.csv 3
    # two scenarios in one job: two Monte Carlos after each other on every rank
    cp "$A" one.lua   # includes are read below the scenario's directory (the include root)
    printf 'local a = stratsim.include("one.lua")\nreturn { a, a:with { name = "b" } }\n' > two.lua
    run "$STRATSIM" mc two.lua --runs 2100 --seed 5 --threads 1 -o two1.csv; expect_rc 0
    [ "$(grep -c '^b,' two1.csv)" -gt 0 ] || fail "scenario b missing"
    for n in 2 3; do
        run mpi $n "$STRATSIM" mc two.lua --runs 2100 --seed 5 --threads 2 -o two$n.csv; expect_rc 0
        cmp two1.csv two$n.csv || fail "two scenarios on $n ranks differ"
    done
}

test_mpi_sens_identical() {
    for meth in tornado sobol; do
        run "$STRATSIM" sens "$A" --method $meth --samples 32 --bootstrap 50 -o one_$meth.csv
        expect_rc 0
        for n in 1 2 3; do
            run mpi $n "$STRATSIM" sens "$A" --method $meth --samples 32 --bootstrap 50 -o $meth$n.csv
            expect_rc 0
            same_pair one_$meth.csv $meth$n.csv $n
        done
    done
    # the table is printed once, by rank 0
    [ "$(grep -c 'Sobol' stdout)" -le 1 ] || fail "the table was printed by several ranks"
}

test_mpi_sweep_identical() {
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.4:4 \
        --grid segments.public.tau=0.5,1.5 --threads 1 -o one.csv; expect_rc 0
    for n in 1 2 3; do
        run mpi $n "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.4:4 \
            --grid segments.public.tau=0.5,1.5 --threads 1 -o sw$n.csv; expect_rc 0
        same_pair one.csv sw$n.csv $n
    done
    # more ranks than points: the idle ranks just end
    run mpi 3 "$STRATSIM" sweep "$A" --grid segments.public.tau=0.5,1.5 \
        --outputs npv:alibaba -o few.csv; expect_rc 0
    run "$STRATSIM" sweep "$A" --grid segments.public.tau=0.5,1.5 --outputs npv:alibaba -o few1.csv
    cmp few.csv few1.csv || fail "sweep with idle ranks differs"
    # a scenario with user stocks and links (Lua in every run) on 2 ranks
    run "$STRATSIM" sweep "$DATA/stocks.lua" --grid providers.alibaba.reinvest=0.1:0.3:3 \
        --outputs gpu@2024 --threads 1 -o st1.csv; expect_rc 0
    run mpi 2 "$STRATSIM" sweep "$DATA/stocks.lua" --grid providers.alibaba.reinvest=0.1:0.3:3 \
        --outputs gpu@2024 --threads 2 -o st.csv; expect_rc 0
    cmp st.csv st1.csv || fail "sweep of a scenario with stocks on 2 ranks differs"
}

test_mpi_optimize_identical() {
    run "$STRATSIM" optimize "$A" --starts 5 -o one.csv; expect_rc 0
    for n in 1 2 3; do
        run mpi $n "$STRATSIM" optimize "$A" --starts 5 -o opt$n.csv; expect_rc 0
        same_pair one.csv opt$n.csv $n
    done
}

test_mpi_failure_on_rank_2() {
    # run 2811 fails (tau drawn negative); it lies in block 2, which rank 2 of 3 runs
    D='segments.public.tau=normal(1.5, 0.45)'
    run "$STRATSIM" mc "$A" --runs 3072 --seed 10 --no-outages --dist "$D" --threads 2 -o x.csv
    expect_rc 1
    one=$(grep -o 'run [0-9]*' stderr | head -n 1)
    [ -n "$one" ] && [ $(( ${one#run } / 1024 % 3 )) = 2 ] || fail "the failing run is not rank 2's: $one"
    msg=$ERR
    run mpi 3 "$STRATSIM" mc "$A" --runs 3072 --seed 10 --no-outages --dist "$D" --threads 1 -o x.csv
    expect_rc 1
    [ "$ERR" = "$msg" ] || fail "message under mpirun: '$ERR', one process: '$msg'"
    [ "$(grep -c '^stratsim:' stderr)" = 1 ] || fail "not exactly one message"
    # on 2 ranks of 2 threads the failing block is rank 0's own
    run mpi 2 "$STRATSIM" mc "$A" --runs 3072 --seed 10 --no-outages --dist "$D" --threads 2 -o x.csv
    expect_rc 1
    [ "$ERR" = "$msg" ] || fail "message on 2 ranks: '$ERR', one process: '$msg'"
    [ "$(grep -c '^stratsim:' stderr)" = 1 ] || fail "not exactly one message"
    # a sweep point failing on rank 2 (point 2 of 0..3)
    run mpi 3 "$STRATSIM" sweep "$A" --grid providers.alibaba.share.public=0.378,0.378,0.5,0.378 -o y.csv
    expect_rc 1; expect_err "point 2 (providers.alibaba.share.public=0.5)"
    [ "$(grep -c '^stratsim:' stderr)" = 1 ] || fail "not exactly one message"
    [ -z "$(ls -A | grep -v -e '^stdout$' -e '^stderr$')" ] || fail "files left: $(ls -A)"
}

test_mpi_scenario_mismatch() {
    mkdir a b
    cp "$A" a/s.lua
    sed 's/growth = 0.2,/growth = 0.25,/' "$A" > b/s.lua
    cmp -s a/s.lua b/s.lua && { fail "the copies should differ"; return 1; }
    if [ "$(id -u)" = 0 ]; then set -- --allow-run-as-root; fi
    run env ASAN_OPTIONS=$NOLEAK OMPI_MCA_btl=self,vader timeout 300 mpirun "$@" -q --oversubscribe \
        -np 1 -wdir a "$STRATSIM" mc s.lua --runs 100 -o out.csv : \
        -np 1 -wdir b "$STRATSIM" mc s.lua --runs 100 -o out.csv
    expect_rc 1; expect_err "the scenario file differs between ranks"
    expect_no_file a/out.csv; expect_no_file b/out.csv
}

test_mpi_interrupt_leaves_nothing() {
    if [ "$(id -u)" = 0 ]; then set -- --allow-run-as-root; fi
    ASAN_OPTIONS=$NOLEAK OMPI_MCA_btl=self,vader mpirun "$@" -q --oversubscribe -np 2 "$STRATSIM" mc "$A" \
        --runs 3000000 --threads 1 -o big.csv >out.txt 2>&1 &
    pid=$!
    sleep 2
    kill -INT $pid
    rc=0
    wait $pid || rc=$?
    [ "$rc" != 0 ] || fail "mpirun ended normally"
    [ -z "$(ls -A | grep -v -e '^stdout$' -e '^stderr$' -e '^out.txt$')" ] || fail "files left: $(ls -A)"
    # SIGTERM to a sweep on 3 ranks
    ASAN_OPTIONS=$NOLEAK OMPI_MCA_btl=self,vader mpirun "$@" -q --oversubscribe -np 3 "$STRATSIM" sweep "$A" \
        --grid providers.alibaba.reinvest=0.1:0.4:4000 --grid segments.public.tau=0.5:1.5:100 \
        --threads 1 -o sw.csv >out.txt 2>&1 &
    pid=$!
    sleep 2
    kill -TERM $pid
    rc=0
    wait $pid || rc=$?
    [ "$rc" != 0 ] || fail "mpirun ended normally"
    [ -z "$(ls -A | grep -v -e '^stdout$' -e '^stderr$' -e '^out.txt$')" ] || fail "files left: $(ls -A)"
}

test_mpi_usage_error_printed_once() {
    run mpi 3 "$STRATSIM" sweep "$A" -o x.csv
    expect_rc 2
    [ "$(grep -c 'missing --grid' stderr)" = 1 ] || fail "the usage error is not printed once"
    run mpi 2 "$STRATSIM" mc "$A" --runs 100 --per-run p.csv -o x.csv
    expect_rc 2; expect_err "--per-run is not available with several MPI ranks"
    # found after loading the file: still one message
    cp "$A" one.lua   # includes are read below the scenario's directory (the include root)
    printf 'local a = stratsim.include("one.lua")\nreturn { a, a:with { name = "b" } }\n' > two.lua
    run mpi 3 "$STRATSIM" sens two.lua
    expect_rc 2
    [ "$(grep -c 'choose one with --scenario NAME: analysis b' stderr)" = 1 ] ||
        fail "the error is not printed once"
}

test_mpi_error_of_one_rank() {
    # only rank 1 has a usage error (the ranks were given different
    # arguments): rank 0 has nothing to report, so rank 1, after waiting for
    # rank 0 to end the job, prints its own error once, naming its rank
    if [ "$(id -u)" = 0 ]; then set -- --allow-run-as-root; fi
    run env ASAN_OPTIONS=$NOLEAK OMPI_MCA_btl=self,vader timeout 300 mpirun "$@" -q --oversubscribe \
        -np 1 "$STRATSIM" sweep "$A" --grid segments.public.tau=0.5,1.5 -o sw.csv : \
        -np 1 "$STRATSIM" sweep "$A" -o sw.csv
    expect_rc 2
    expect_err "stratsim: rank 1: missing --grid PATH=START:STOP:N"
    [ "$(grep -c '^stratsim:' stderr)" = 1 ] || fail "not exactly one message"
    expect_no_file sw.csv
}

test_mpi_version_mismatch() {
    # rank 1 reports another version (STRATSIM_TEST_MPI_VERSION, test-only,
    # docs/scale-out.md): one error from rank 0 naming both, nothing written,
    # for the Monte Carlo (ranks talk to each other) and a sweep (to rank 0)
    if [ "$(id -u)" = 0 ]; then set -- --allow-run-as-root; fi
    v=$("$STRATSIM" --version | grep -o '[0-9][0-9.]*[0-9]' | head -n 1)
    [ -n "$v" ] || { fail "no version in: $("$STRATSIM" --version)"; return 1; }
    run env ASAN_OPTIONS=$NOLEAK OMPI_MCA_btl=self,vader timeout 300 mpirun "$@" -q --oversubscribe \
        -np 1 "$STRATSIM" mc "$A" --runs 100 -o out.csv : \
        -np 1 env STRATSIM_TEST_MPI_VERSION=0.0.0-other "$STRATSIM" mc "$A" --runs 100 -o out.csv
    expect_rc 1
    expect_err "mc: rank 1 runs stratsim 0.0.0-other, rank 0 runs $v: use one build on every node"
    [ "$(grep -c '^stratsim:' stderr)" = 1 ] || fail "not exactly one message"
    expect_no_file out.csv
    run env ASAN_OPTIONS=$NOLEAK OMPI_MCA_btl=self,vader timeout 300 mpirun "$@" -q --oversubscribe \
        -np 2 "$STRATSIM" sweep "$A" --grid segments.public.tau=0.5,1.5 -o sw.csv : \
        -np 1 env STRATSIM_TEST_MPI_VERSION=0.0.0-other "$STRATSIM" sweep "$A" \
        --grid segments.public.tau=0.5,1.5 -o sw.csv
    expect_rc 1
    expect_err "sweep: rank 2 runs stratsim 0.0.0-other, rank 0 runs $v"
    expect_no_file sw.csv
    # the same variable with the real version is no mismatch
    run env ASAN_OPTIONS=$NOLEAK OMPI_MCA_btl=self,vader timeout 300 mpirun "$@" -q --oversubscribe \
        -np 1 "$STRATSIM" mc "$A" --runs 100 -o out.csv : \
        -np 1 env STRATSIM_TEST_MPI_VERSION="$v" "$STRATSIM" mc "$A" --runs 100 -o out.csv
    expect_rc 0
    expect_file out.csv
}

test_mpi_mc_memory_error() {
    # rank 0 checks the estimate before any rank starts a run: one message
    run "$STRATSIM" mc "$A" --runs 3000000 --threads 1 --max-memory 10K -o x.csv
    expect_rc 1; expect_err "the limit is 10 KiB (--max-memory)"
    for n in 2 3; do
        run mpi $n "$STRATSIM" mc "$A" --runs 3000000 --threads 1 --max-memory 10K -o x.csv
        expect_rc 1
        [ "$(grep -c '^stratsim:' stderr)" = 1 ] || fail "not exactly one message"
        expect_err "the limit is 10 KiB (--max-memory)"
    done
    [ -z "$(ls -A | grep -v -e '^stdout$' -e '^stderr$')" ] || fail "files left: $(ls -A)"
    # a selection under MPI gives the bytes of one process
    run "$STRATSIM" mc "$A" --runs 2500 --seed 3 --threads 1 --outputs npv:rival,size:public@each -o one.csv
    expect_rc 0
    run mpi 2 "$STRATSIM" mc "$A" --runs 2500 --seed 3 --threads 1 --outputs npv:rival,size:public@each -o two.csv
    expect_rc 0; same_pair one.csv two.csv 2
}

#!/bin/sh
# tests/cli/tmux_drive.sh - the tmux twin of pty_drive.py, for systems whose
# python3 lacks the pty module: runs COMMAND in a detached tmux session
# (80x24) and follows the same script (send / sendnow / expect / exit lines,
# escapes \r \t \xHH, see pty_drive.py). Keys go in with `send-keys -l`; the
# output is read back with `capture-pane -J` (the rendered screen and its
# history), and `send` waits until the pane's terminal has left canonical mode
# (stty -F on the pane's tty), i.e. until a line editor reads it.
#
# Usage: tmux_drive.sh SCRIPT -- COMMAND [ARG...]
set -u
[ $# -ge 3 ] && [ "$2" = "--" ] || { echo "usage: tmux_drive.sh SCRIPT -- COMMAND [ARG...]" >&2; exit 2; }
script=$1
shift 2
limit=$(( ${PTY_TIMEOUT:-10} * 20 ))   # polls of 0.05 s
dir=$(mktemp -d)
sock="$dir/sock"
pos=0

tm() { tmux -S "$sock" "$@"; }
cleanup() { tm kill-server 2>/dev/null; rm -rf "$dir"; }
screen() { tm capture-pane -p -J -S - -E - -t drive 2>/dev/null; }
die() {
    echo "tmux_drive: $1" >&2
    echo "---- screen ----" >&2
    screen | tail -n 30 >&2
    echo "----" >&2
    cleanup
    exit 1
}
# decode the escapes \r \t \\ \xHH into bytes (\xHH via printf's \0ooo)
decode() {
    s=$1
    out=
    while :; do
        case "$s" in
        *'\x'??*)
            out="$out${s%%\\x*}"
            s=${s#*\\x}
            out="$out\\0$(printf %03o "0x$(printf %.2s "$s")")"
            s=${s#??}
            ;;
        *) out="$out$s"; break ;;
        esac
    done
    printf '%b' "$out"
}

# A wrapper records the exit status (128+N for signal N; tmux's
# pane_dead_status is not always there in time). Its trap keeps it alive when
# a Ctrl-C kills the whole process group; the command gets the default
# action back (exec resets caught signals). The pane stays for its screen.
cat >"$dir/run.sh" <<'EOF'
trap : INT
status=$1
shift
"$@"
echo $? >"$status.tmp" && mv "$status.tmp" "$status"
EOF
printf 'set -g remain-on-exit on\nset -g history-limit 10000\n' >"$dir/tmux.conf"
tm -f "$dir/tmux.conf" new-session -d -s drive -x 80 -y 24 sh "$dir/run.sh" "$dir/status" "$@" ||
    die "cannot start tmux"

while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    action=${line%% *}
    arg=${line#"$action"}
    arg=${arg#" "}
    case "$action" in
    send|sendnow)
        if [ "$action" = send ]; then
            tty=$(tm display-message -p -t drive '#{pane_tty}')
            n=0
            until stty -F "$tty" -a 2>/dev/null | grep -q -- '-icanon'; do
                n=$((n + 1)); [ $n -le $limit ] || die "send '$arg': the terminal stays in canonical mode"
                sleep 0.05
            done
        fi
        tm send-keys -t drive -l -- "$(decode "$arg")" || die "send-keys failed"
        ;;
    expect)
        want=$(decode "$arg")
        n=0
        while :; do
            screen >"$dir/screen"
            at=$(WANT="$want" POS=$pos awk 'BEGIN { RS = "\001" } {
                    s = $0; i = index(substr(s, ENVIRON["POS"] + 1), ENVIRON["WANT"])
                    if (i > 0) print ENVIRON["POS"] + i - 1 + length(ENVIRON["WANT"])
                }' "$dir/screen")
            [ -n "$at" ] && { pos=$at; break; }
            n=$((n + 1)); [ $n -le $limit ] || die "expect '$arg': timeout"
            sleep 0.05
        done
        ;;
    exit)
        n=0
        until [ -s "$dir/status" ]; do
            n=$((n + 1)); [ $n -le $limit ] || die "exit $arg: timeout"
            sleep 0.05
        done
        got=$(cat "$dir/status")
        [ "$got" -gt 128 ] && got=SIG$(kill -l $((got - 128)))
        [ "$got" = "$arg" ] || die "exit $arg: got $got"
        ;;
    *) die "unknown action '$action'" ;;
    esac
done <"$script"
cleanup
exit 0

#!/usr/bin/env bash
# Drives `pocket chat` through a real pseudo-terminal (tmux): two turns, /think, /reset, /system, an
# unknown command, Ctrl-C in the middle of a long answer (must stop the answer, not the program), then
# /exit. Checks what the screen shows.
set -euo pipefail
pocket="$1" model="$2"
session="pocket-chat-test-$$"
log="$(mktemp)"
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT

start() {  # start EXTRA_ARGS...: a fresh chat in the tmux session
  tmux kill-session -t "$session" 2>/dev/null || true
  tmux new-session -d -s "$session" -x 200 -y 50 \
    "$pocket chat -m $model -t 2 --temp 0 $* 2>&1; echo POCKET-EXITED-\$?; sleep 30"
}
screen() { tmux capture-pane -p -t "$session" -S -1000; }
count() { screen | grep -cF -- "$1" || true; }
wait_for() {  # wait_for TEXT [seconds] [min-count]
  local deadline=$((SECONDS + ${2:-30}))
  until [ "$(count "$1")" -ge "${3:-1}" ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "timed out waiting for: $1"; echo "---- screen ----"; screen; exit 1
    fi
    sleep 0.2
  done
}
send() { tmux send-keys -t "$session" -l -- "$1"; tmux send-keys -t "$session" Enter; }

# Session 1: short answers; turns and commands.
start -c 4096 -n 12
wait_for "pocket chat"
send "Hello there"
wait_for "generation: 12 tokens"
send "And a second question?"
wait_for "generation: 12 tokens" 30 2
send "/think on"
wait_for "[thinking on]"
send "/bogus"
wait_for "unknown command /bogus"
send "/system You are terse."
wait_for "[system prompt set; conversation cleared]"
send "/reset"
wait_for "[conversation cleared]"
send "/exit"
wait_for "POCKET-EXITED-0" 30

# Session 2: unlimited answers; Ctrl-C stops the answer, the chat goes on.
start -c 2048 -n 0
wait_for "pocket chat"
send "Tell me a very long story"
sleep 1
tmux send-keys -t "$session" C-c
wait_for "[stopped]" 30
send "Short one"
sleep 0.5
tmux send-keys -t "$session" C-c
wait_for "[stopped]" 30 2
[ "$(count POCKET-EXITED)" -eq 0 ] || { echo "pocket exited after Ctrl-C"; screen; exit 1; }
tmux send-keys -t "$session" C-d
wait_for "POCKET-EXITED-0" 30
echo "chat through a pty: 2 turns answered, /think, /system, /reset, unknown command, /exit, Ctrl-C x2 stops answers, Ctrl-D quits -> ok"

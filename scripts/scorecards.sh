#!/usr/bin/env bash
# The scorecard of every built-in lab task (docs/results.md): 3 peak lrs each, seeds 0-4, one
# folder per task under OUT (default runs/scorecards), then OUT/scorecards.md, every table in one
# file. Resumable: runs already in a task's results.jsonl are not trained again.
#   bash scripts/scorecards.sh [OUT] [WORKERS]        (make scorecards)
set -euo pipefail
OUT=${1:-runs/scorecards}
WORKERS=${2:-2}
RAMPUP=${RAMPUP:-.venv/bin/rampup}
# task  peak lrs (each task's window and both sides of it, from docs/lab.md)
TASKS=(
  "markov-postln          1e-3,3e-3,1e-2"
  "digits-words           5e-3,7e-3,1e-2"
  "postln-sort            3e-3,1e-2,3e-2"
  "postln-cipher          1e-2,1.5e-2,2e-2"
  "shapes-bn              1.6,3.2,4.8"
  "digits-largebatch      0.4,1.6,3.2"
  "digits-plainmlp        0.05,0.1,0.2"
  "markov-preln           1e-3,3e-3,1e-2"
  "digits-words-preln     5e-3,7e-3,1e-2"
  "preln-sort             3e-3,1e-2,3e-2"
  "preln-cipher           1e-2,1.5e-2,2e-2"
  "shapes-bn-b64          1.6,3.2,4.8"
  "digits-largebatch-nobn 0.4,1.6,3.2"
)
mkdir -p "$OUT"
for row in "${TASKS[@]}"; do
  read -r task lrs <<<"$row"
  echo "== $task at $lrs" >&2
  "$RAMPUP" lab scorecard --task "$task" --lr "$lrs" --seeds 0,1,2,3,4 \
    --workers "$WORKERS" --out "$OUT/$task" >/dev/null
done
{
  echo "# Scorecards of every lab task"
  echo
  for row in "${TASKS[@]}"; do
    read -r task _ <<<"$row"
    sed 's/^## /### /' "$OUT/$task/scorecard.md"
    echo
  done
} >"$OUT/scorecards.md"
echo "wrote $OUT/scorecards.md" >&2

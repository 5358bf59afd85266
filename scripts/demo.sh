#!/usr/bin/env bash
# npm run demo: build, create + migrate + seed the database, then run the api and the
# worker in the foreground until Ctrl-C. Steps are plain functions run in order by
# main(): add a step by writing a function and listing it there.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEMO_MODE="${DEMO_MODE:-true}"
# Engagement counts for an impression within this window, and retraining uses impressions
# older than it: 1 minute (the seeded videos last up to 60 s) lets the simulator's
# background retrains learn from the last minutes of traffic.
export TRAIN_LABEL_WINDOW_MINUTES="${TRAIN_LABEL_WINDOW_MINUTES:-1}"
# Warnings and errors only: no line per request or per migration query. LOG_LEVEL=info
# brings back the request lines, LOG_LEVEL=debug the migrations' SQL too.
export LOG_LEVEL="${LOG_LEVEL:-warn}"
PORT="${PORT:-3000}"
BASE_URL="http://localhost:${PORT}"
SEED_ARGS=(${SEED_ARGS:-})

log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

run_step() {
  local name="$1"
  shift
  log "$name"
  if ! "$@"; then
    printf '\ndemo: step "%s" failed.\n' "$name" >&2
    printf 'Postgres (DATABASE_URL) and Redis (REDIS_URL) must be running; with Docker: docker compose up -d postgres redis\n' >&2
    exit 1
  fi
}

build() { npm run --silent build; }
create_database() { npm run --silent db:create; }
migrate() { npm run --silent migrate; }
seed() { npm run --silent seed -- "${SEED_ARGS[@]}"; }
replay() { npm run --silent replay; }
train() { npm run --silent train; }

PIDS=()
stop_all() {
  trap - INT TERM EXIT
  if ((${#PIDS[@]})); then
    printf '\nstopping api and worker...\n'
    kill "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
}

start_processes() {
  node --max-semi-space-size=16 dist/src/main.js &
  PIDS+=($!)
  node dist/src/worker.js &
  PIDS+=($!)
  trap 'stop_all; exit 130' INT TERM
  trap stop_all EXIT
}

wait_until_ready() {
  for _ in $(seq 1 60); do
    if node -e "fetch('${BASE_URL}/health/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
      return 0
    fi
    sleep 0.5
  done
  echo "api did not become ready at ${BASE_URL}/health/ready" >&2
  return 1
}

print_urls() {
  cat <<URLS

Reelrank demo is running (Ctrl-C stops the api and the worker):
  Demo page           ${BASE_URL}/demo/
  API docs (OpenAPI)  ${BASE_URL}/docs
  Readiness           ${BASE_URL}/health/ready
  Metrics             ${BASE_URL}/metrics
  Simulator           in another terminal: PORT=${PORT} npm run simulate${SEED_ARGS[*]:+ -- ${SEED_ARGS[*]}}
URLS
}

main() {
  run_step "build" build
  run_step "create database" create_database
  run_step "migrate" migrate
  run_step "seed the demo world" seed
  run_step "train item embeddings and the initial ranking model" train
  run_step "rebuild online features from the interaction log" replay
  log "start api and worker"
  start_processes
  run_step "wait for the api" wait_until_ready
  print_urls
  # Stop everything as soon as either process exits.
  local status=0
  wait -n "${PIDS[@]}" || status=$?
  echo "a demo process exited (status ${status}); stopping the other" >&2
  exit "$status"
}

main "$@"

#!/bin/sh
# serve: apply migrations (and the job queue's schema), add the demo district only when
# WARMMEAL_DEMO=1, then serve. worker: run the job queue. Anything else runs as given.
set -e
case "$1" in
  serve)
    warmmeal db upgrade
    case "${WARMMEAL_DEMO:-0}" in
      1|true|yes|on) warmmeal seed demo --if-empty --booking-days 1 ;;
    esac
    exec warmmeal serve --host 0.0.0.0 --port "${WARMMEAL_PORT:-8000}" --workers "${WARMMEAL_WORKERS:-2}"
    ;;
  worker)
    # Started once the service is healthy, i.e. migrated (compose: depends_on app healthy).
    exec warmmeal worker
    ;;
  *)
    exec "$@"
    ;;
esac

#!/usr/bin/env bash
# Monitoring tests (issue 15): every tests/monitoring/t-*.sh in turn, each with
# its own daemon and port range on loopback (tests/run-scripts.sh runs them).
#
#   BIN=build/asan TOOLS=build/tools tests/monitoring/run.sh [t-NAME.sh ...]
exec "$(dirname "$0")/../run-scripts.sh" monitoring "$@"

#!/usr/bin/env bash
# Browser pre-call tests (issue 17): every tests/webrtc/t-*.sh in turn, each with
# its own daemon and port range (tests/run-scripts.sh runs them).
#
#   BIN=build/asan TOOLS=build/tools tests/webrtc/run.sh [t-NAME.sh ...]
exec "$(dirname "$0")/../run-scripts.sh" webrtc "$@"

#!/usr/bin/env bash
# A throwaway redis-server on 127.0.0.1 for gb-sticky's Redis tests (install also brings redis-cli).
#
#   bash .ci/redis.sh install        # apt-get install redis-server, unless it is on PATH already
#   source .ci/redis.sh start        # start one on a free port; exports GB_REDIS_URL,
#                                    # GB_REDIS_PIDFILE, GB_REDIS_DIR into the calling shell
#   eval "$(bash .ci/redis.sh start)"  # the same without sourcing
#   bash .ci/redis.sh stop           # stop it (uses GB_REDIS_PIDFILE, else the last one started)
#
# The server binds 127.0.0.1 only, keeps nothing on disk (--save '' --appendonly no) and writes
# its pid file and log under a fresh temp dir, removed by `stop`. Every wait is bounded.
# Sourcing never exits the calling shell: failures return non-zero.

_gb_redis_log() { echo "redis.sh: $*" >&2; }

_gb_redis_state_file() { echo "${TMPDIR:-/tmp}/gb-sticky-redis.last"; }

_gb_redis_install() {
    if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
        _gb_redis_log "redis-server already installed: $(command -v redis-server)"
        return 0
    fi
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            _gb_redis_log "not root and no sudo: cannot install redis-server"
            return 1
        fi
    fi
    _gb_redis_log "installing redis-server with apt-get"
    $sudo apt-get update -qq || return 1
    # redis-tools: redis-cli, which creates the cluster (.ci/redis-cluster.sh).
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools >/dev/null || return 1
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1
}

# True if something accepts connections on 127.0.0.1:$1.
_gb_redis_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_gb_redis_ping() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(timeout 2 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]
    else
        _gb_redis_port_busy "$1"
    fi
}

_gb_redis_start() {
    if ! command -v redis-server >/dev/null 2>&1; then
        _gb_redis_log "redis-server not found (run: bash .ci/redis.sh install)"
        return 1
    fi
    local dir port attempt i
    dir="$(mktemp -d "${TMPDIR:-/tmp}/gb-sticky-redis.XXXXXX")" || return 1
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if _gb_redis_port_busy "$port"; then continue; fi
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
            --dir "$dir" >/dev/null 2>&1 || continue
        for i in $(seq 1 50); do
            if _gb_redis_ping "$port"; then
                export GB_REDIS_URL="redis://127.0.0.1:$port/"
                export GB_REDIS_PIDFILE="$dir/redis.pid"
                export GB_REDIS_DIR="$dir"
                echo "$dir" > "$(_gb_redis_state_file)"
                _gb_redis_log "started redis-server on 127.0.0.1:$port (pid $(cat "$dir/redis.pid" 2>/dev/null), attempt $attempt)"
                return 0
            fi
            sleep 0.1
        done
        _gb_redis_log "redis-server on port $port did not answer; retrying"
        _gb_redis_kill_pidfile "$dir/redis.pid"
    done
    _gb_redis_log "could not start redis-server; log:"
    cat "$dir/redis.log" >&2 2>/dev/null
    rm -rf "$dir"
    return 1
}

_gb_redis_kill_pidfile() {
    local pidfile="$1" pid i
    [ -f "$pidfile" ] || return 0
    pid="$(cat "$pidfile" 2>/dev/null)"
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    return 0
}

_gb_redis_stop() {
    local dir=""
    if [ -n "${GB_REDIS_PIDFILE:-}" ]; then
        dir="$(dirname "$GB_REDIS_PIDFILE")"
    elif [ -f "$(_gb_redis_state_file)" ]; then
        dir="$(cat "$(_gb_redis_state_file)")"
    fi
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
        _gb_redis_log "nothing to stop"
        return 0
    fi
    _gb_redis_kill_pidfile "$dir/redis.pid"
    case "$dir" in
        "${TMPDIR:-/tmp}"/gb-sticky-redis.*) rm -rf "$dir" ;;
    esac
    rm -f "$(_gb_redis_state_file)"
    _gb_redis_log "stopped redis-server ($dir)"
    return 0
}

_gb_redis_main() {
    case "${1:-}" in
        install) _gb_redis_install ;;
        start) _gb_redis_start ;;
        stop) _gb_redis_stop ;;
        *)
            _gb_redis_log "usage: bash .ci/redis.sh install|stop; source .ci/redis.sh start"
            return 2
            ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # Executed: print the exports of `start` for `eval`.
    _gb_redis_main "$@" || exit $?
    if [ "${1:-}" = "start" ]; then
        echo "export GB_REDIS_URL='$GB_REDIS_URL' GB_REDIS_PIDFILE='$GB_REDIS_PIDFILE' GB_REDIS_DIR='$GB_REDIS_DIR'"
    fi
else
    _gb_redis_main "$@"
fi

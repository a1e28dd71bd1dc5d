#!/usr/bin/env bash
# A throwaway 3-master Redis Cluster (one replica each) on 127.0.0.1 for the cluster tests.
#
#   source .ci/redis-cluster.sh start   # exports GB_REDIS_CLUSTER_URLS (comma-separated seed
#                                       # URLs) and GB_REDIS_CLUSTER_DIR into the calling shell
#   bash .ci/redis-cluster.sh stop      # stops every node (GB_REDIS_CLUSTER_DIR, else the last)
#
# Needs redis-server and redis-cli (`bash .ci/redis.sh install` installs both). Nodes bind
# 127.0.0.1 only, keep nothing on disk but their cluster config, and live under a fresh temp
# dir removed by `stop`. Every wait is bounded. Sourcing never exits the calling shell.

_gb_cluster_log() { echo "redis-cluster.sh: $*" >&2; }
_gb_cluster_state_file() { echo "${TMPDIR:-/tmp}/gb-redis-cluster.last"; }
_gb_cluster_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_gb_cluster_stop_dir() {
    local dir="$1" pidfile pid i
    for pidfile in "$dir"/*.pid; do
        [ -f "$pidfile" ] || continue
        pid="$(cat "$pidfile" 2>/dev/null)"
        [ -n "$pid" ] || continue
        kill "$pid" 2>/dev/null || continue
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
    done
    case "$dir" in
        "${TMPDIR:-/tmp}"/gb-redis-cluster.*) rm -rf "$dir" ;;
    esac
}

# Cluster nodes also listen on port + 10000 (the cluster bus), so a node port must be at most
# 55535: the range below keeps both ports in 20000..55005.
_gb_cluster_pick_base() {
    local base i
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        base=$(( 20000 + (RANDOM * 32768 + RANDOM) % 25000 ))
        for i in 0 1 2 3 4 5; do
            if _gb_cluster_busy $((base + i)) || _gb_cluster_busy $((base + i + 10000)); then base=""; break; fi
        done
        [ -n "$base" ] && { echo "$base"; return 0; }
    done
    return 1
}

# Starts six nodes from `base` in `dir`; returns 1 (nodes stopped) unless all six answer PONG.
_gb_cluster_spawn() {
    local dir="$1" base="$2" port i up
    for i in 0 1 2 3 4 5; do
        port=$((base + i))
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
            --cluster-node-timeout 1000 --repl-diskless-sync yes --repl-diskless-sync-delay 0 \
            --daemonize yes --pidfile "$dir/$port.pid" --logfile "$dir/$port.log" \
            --dir "$dir" >/dev/null 2>&1 || { _gb_cluster_log "node $port did not start"; _gb_cluster_stop_dir "$dir"; return 1; }
    done
    for i in 0 1 2 3 4 5; do
        port=$((base + i))
        up=0
        for _ in $(seq 1 50); do
            [ "$(timeout 2 redis-cli -p "$port" ping 2>/dev/null)" = "PONG" ] && { up=1; break; }
            sleep 0.1
        done
        if [ "$up" != 1 ]; then
            _gb_cluster_log "node $port did not answer within 5 s:"
            tail -n 5 "$dir/$port.log" >&2 2>/dev/null
            _gb_cluster_stop_dir "$dir"
            return 1
        fi
    done
    return 0
}

_gb_cluster_start() {
    local dir base port addrs urls i attempt ok started=0
    for bin in redis-server redis-cli; do
        command -v "$bin" >/dev/null 2>&1 || { _gb_cluster_log "$bin not found (run: bash .ci/redis.sh install)"; return 1; }
    done
    for attempt in 1 2 3; do
        dir="$(mktemp -d "${TMPDIR:-/tmp}/gb-redis-cluster.XXXXXX")" || return 1
        base="$(_gb_cluster_pick_base)" || { _gb_cluster_log "no free ports"; rm -rf "$dir"; return 1; }
        if _gb_cluster_spawn "$dir" "$base"; then started=1; break; fi
        _gb_cluster_log "attempt $attempt failed; trying other ports"
    done
    [ "$started" = 1 ] || { _gb_cluster_log "could not start six nodes in 3 attempts"; return 1; }
    addrs=""; urls=""
    for i in 0 1 2 3 4 5; do
        port=$((base + i))
        addrs="$addrs 127.0.0.1:$port"
        urls="${urls:+$urls,}redis://127.0.0.1:$port"
    done
    # shellcheck disable=SC2086
    if ! timeout 60 redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1; then
        _gb_cluster_log "cluster create failed:"; cat "$dir/create.log" >&2
        _gb_cluster_stop_dir "$dir"; return 1
    fi
    for i in $(seq 1 300); do
        ok=1
        for port in $(seq "$base" $((base + 5))); do
            timeout 2 redis-cli -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || { ok=0; break; }
        done
        [ "$ok" = 1 ] && break
        sleep 0.1
    done
    if [ "$ok" != 1 ]; then
        _gb_cluster_log "cluster not ok within 30 s"; _gb_cluster_stop_dir "$dir"; return 1
    fi
    export GB_REDIS_CLUSTER_URLS="$urls"
    export GB_REDIS_CLUSTER_DIR="$dir"
    echo "$dir" > "$(_gb_cluster_state_file)"
    _gb_cluster_log "started a 3-master cluster (1 replica each) on 127.0.0.1 ports $base..$((base + 5))"
    return 0
}

_gb_cluster_stop() {
    local dir="${GB_REDIS_CLUSTER_DIR:-}"
    if [ -z "$dir" ] && [ -f "$(_gb_cluster_state_file)" ]; then
        dir="$(cat "$(_gb_cluster_state_file)")"
    fi
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
        _gb_cluster_log "nothing to stop"
        return 0
    fi
    _gb_cluster_stop_dir "$dir"
    rm -f "$(_gb_cluster_state_file)"
    _gb_cluster_log "stopped the cluster ($dir)"
    return 0
}

_gb_cluster_main() {
    case "${1:-}" in
        start) _gb_cluster_start ;;
        stop) _gb_cluster_stop ;;
        *) _gb_cluster_log "usage: source .ci/redis-cluster.sh start; bash .ci/redis-cluster.sh stop"; return 2 ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    _gb_cluster_main "$@" || exit $?
    if [ "${1:-}" = "start" ]; then
        echo "export GB_REDIS_CLUSTER_URLS='$GB_REDIS_CLUSTER_URLS' GB_REDIS_CLUSTER_DIR='$GB_REDIS_CLUSTER_DIR'"
    fi
else
    _gb_cluster_main "$@"
fi

# shellcheck shell=bash
# Helpers shared by slurm.sh and gridengine.sh (sourced, not run).
#
# Daemons are tracked by pid file only: a PID is ours when its process is alive
# (not a zombie: PID 1 here reaps orphans late) and runs the expected program.

log() { printf '[%s] %s\n' "${CLUSTER_NAME:-cluster}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

require_root() {
    [ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons); try: sudo $0"
}

# apt_install PKG...: install only what is missing; one `apt-get update` per run.
apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "packages ${missing[*]} are missing and apt-get is not available; install them by hand"
    log "installing ${missing[*]}"
    if [ -z "${_APT_UPDATED:-}" ]; then
        apt-get update -qq >/dev/null || die "apt-get update failed; check the network or the apt sources"
        _APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed; run it by hand to see why"
}

# pid_alive PIDFILE NAME: true when the pid file names a live process running NAME.
pid_alive() {
    local pidfile=$1 name=$2 pid state comm
    [ -r "$pidfile" ] || return 1
    pid=$(tr -dc '0-9' <"$pidfile" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] && [ "$state" != X ] && [[ "$comm" == "$name"* ]]
}

# stop_pid PIDFILE NAME: SIGTERM, wait up to 5 s, then SIGKILL; removes the pid file.
stop_pid() {
    local pidfile=$1 name=$2 pid
    if pid_alive "$pidfile" "$name"; then
        pid=$(tr -dc '0-9' <"$pidfile" 2>/dev/null) || return 0
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do pid_alive "$pidfile" "$name" || break; sleep 0.1; done
        if pid_alive "$pidfile" "$name"; then
            log "$name ($pid) ignored SIGTERM for 5 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for _ in $(seq 20); do pid_alive "$pidfile" "$name" || break; sleep 0.1; done
        fi
        pid_alive "$pidfile" "$name" && die "$name ($pid) is still running; stop it by hand"
    fi
    rm -f "$pidfile"
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
    local timeout=$1 what=$2 deadline
    shift 2
    deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s%N)" -gt "$deadline" ]; then log "timed out after ${timeout} s waiting for $what"; return 1; fi
        sleep 0.1
    done
    return 0
}

# write_if_changed PATH: write stdin to PATH; exit status 0 when the content changed.
write_if_changed() {
    local path=$1 tmp
    tmp=$(mktemp)
    cat >"$tmp"
    if [ -f "$path" ] && cmp -s "$tmp" "$path"; then rm -f "$tmp"; return 1; fi
    mkdir -p "$(dirname "$path")"
    mv "$tmp" "$path"
    chmod 644 "$path"
    return 0
}

# main ARG: the command line of slurm.sh and gridengine.sh, run on the functions each defines.
main() {
    case "${1:-}" in
        start) start ;;
        stop) stop ;;
        restart) stop; start ;;
        status) status ;;
        *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
    esac
}

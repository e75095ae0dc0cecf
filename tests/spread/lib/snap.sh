# shellcheck shell=bash
# Helpers the spread tasks use to drive charmed-etcd, so that one task script
# runs against real snapd (spread) and against snapsim (tests/spread/run-sim.sh).
# Source it at the top of every prepare, execute and restore section.
#
# Settings (environment):
#   SNAP_CMD      how to run snap: "snap" (default), or for snapsim
#                 "/path/to/bin/snapsim --root DIR".
#   SNAP_FILE     the .snap snapd installs (default: the charmed-etcd_*.snap
#                 at the top of $SPREAD_PATH).
#   SNAP_PRIME    the primed tree snapsim installs (default: $SPREAD_PATH/prime).
#   SPREAD_WORKDIR  scratch space for certificates (default: /tmp/charmed-etcd-spread).
#
# Instances: the first member is the snap itself, charmed-etcd; the others are
# snapd parallel instances, charmed-etcd_<key>. snapsim has one snap per root,
# so under snapsim instance charmed-etcd_<key> lives in root DIR_<key>, and
# inside that root the snap is still called charmed-etcd.

: "${SNAP_CMD:=snap}"
: "${SPREAD_PATH:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
: "${SNAP_PRIME:=$SPREAD_PATH/prime}"
: "${SPREAD_WORKDIR:=/tmp/charmed-etcd-spread}"
SNAP_NAME=charmed-etcd
# shellcheck disable=SC2034 # read by the tasks
DAEMON_UID=584788

# is_sim: true when SNAP_CMD is snapsim.
is_sim() {
    case "$SNAP_CMD" in
        *snapsim*) return 0 ;;
    esac
    return 1
}

# sim_root INSTANCE: the snapsim root of an instance.
sim_root() {
    local root="" prev="" word
    for word in $SNAP_CMD; do
        case "$word" in
            --root=*) root="${word#--root=}" ;;
        esac
        if [ "$prev" = "--root" ]; then
            root="$word"
        fi
        prev="$word"
    done
    if [ -z "$root" ]; then
        root="${SNAPSIM_ROOT:?SNAP_CMD names snapsim but gives no --root}"
    fi
    case "$1" in
        "$SNAP_NAME") echo "$root" ;;
        "$SNAP_NAME"_*) echo "${root}_${1#"$SNAP_NAME"_}" ;;
        *) echo "unknown instance $1" >&2; return 1 ;;
    esac
}

# snap_for INSTANCE ARGS...: run snap (or snapsim, in the instance's root).
# In ARGS, write @ for the instance name: it becomes charmed-etcd_m2 for snapd
# and charmed-etcd for snapsim ("snap_for charmed-etcd_m2 start @.etcd").
snap_for() {
    local instance="$1" name="$1" arg
    shift
    local args=()
    if is_sim; then
        name="$SNAP_NAME"
    fi
    for arg in "$@"; do
        case "$arg" in
            @) arg="$name" ;;
            @.*) arg="$name.${arg#@.}" ;;
        esac
        args+=("$arg")
    done
    if is_sim; then
        local sim=()
        read -r -a sim <<<"$SNAP_CMD"
        # snapsim takes one --root: the instance's, not the one in SNAP_CMD.
        local base=() skip=no word
        for word in "${sim[@]}"; do
            if [ "$skip" = yes ]; then skip=no; continue; fi
            case "$word" in
                --root) skip=yes; continue ;;
                --root=*) continue ;;
            esac
            base+=("$word")
        done
        "${base[@]}" --root "$(sim_root "$instance")" "${args[@]}"
    else
        snap "${args[@]}"
    fi
}

# snap_file: the .snap file snapd installs.
snap_file() {
    if [ -n "${SNAP_FILE:-}" ]; then
        echo "$SNAP_FILE"
        return
    fi
    local f
    for f in "$SPREAD_PATH"/charmed-etcd_*.snap; do
        [ -e "$f" ] || break
        echo "$f"
        return
    done
    echo "no charmed-etcd_*.snap in $SPREAD_PATH: run make snap before spread" >&2
    return 1
}

# enable_parallel_instances: snapd's switch for charmed-etcd_<key> instances.
enable_parallel_instances() {
    if ! is_sim; then
        snap set system experimental.parallel-instances=true
    fi
}

# disable_parallel_instances: undo enable_parallel_instances.
disable_parallel_instances() {
    if ! is_sim; then
        snap unset system experimental.parallel-instances
    fi
}

# install_snap INSTANCE: install the locally built snap (unasserted).
install_snap() {
    if is_sim; then
        mkdir -p "$(sim_root "$1")"
        snap_for "$1" install "$SNAP_PRIME"
    elif [ "$1" = "$SNAP_NAME" ]; then
        snap install --dangerous "$(snap_file)"
    else
        snap install --dangerous "$(snap_file)" --name "$1"
    fi
}

# refresh_snap INSTANCE: refresh to the same build, as a new revision.
refresh_snap() {
    if is_sim; then
        snap_for "$1" refresh "$SNAP_PRIME"
    elif [ "$1" = "$SNAP_NAME" ]; then
        snap install --dangerous "$(snap_file)"
    else
        snap install --dangerous "$(snap_file)" --name "$1"
    fi
}

# remove_snap INSTANCE: stop and remove the instance with its data; quiet
# when it is not installed (restore runs after a failed prepare too).
remove_snap() {
    if is_sim; then
        local root
        root="$(sim_root "$1")"
        if [ -d "$root" ]; then
            snap_for "$1" remove || true
            rm -rf "$root"
        fi
    elif snap list "$1" >/dev/null 2>&1; then
        snap remove --purge "$1"
    fi
}

# snap_set INSTANCE KEY=VALUE...; snap_unset INSTANCE KEY...
snap_set() { local i="$1"; shift; snap_for "$i" set @ "$@"; }
snap_unset() { local i="$1"; shift; snap_for "$i" unset @ "$@"; }

# snap_get INSTANCE KEY: one option's value; snap_get_all INSTANCE: every
# option as JSON.
snap_get() { snap_for "$1" get @ "$2"; }
snap_get_all() { snap_for "$1" get -d @; }

# service INSTANCE VERB [FLAGS...]: start, stop or restart the daemon.
service() {
    local i="$1" verb="$2"
    shift 2
    snap_for "$i" "$verb" "$@" @.etcd
}

# services INSTANCE: snap services for the daemon.
services() { snap_for "$1" services @.etcd; }

# service_logs INSTANCE: the daemon's recent output.
service_logs() { snap_for "$1" logs -n 50 @.etcd; }

# service_pid INSTANCE: the daemon's main PID, empty when not running.
service_pid() {
    if is_sim; then
        local status
        status="$(sim_root "$1")/var/lib/snapsim/run/snap.$SNAP_NAME.etcd.json"
        [ -f "$status" ] || return 0
        if grep -q '"state":"active"' "$status"; then
            sed -n 's/.*"main-pid":\([0-9]*\).*/\1/p' "$status"
        fi
    else
        local pid
        pid="$(systemctl show --property MainPID --value "snap.$1.etcd.service")"
        if [ "$pid" != 0 ]; then
            echo "$pid"
        fi
    fi
}

# etcdctl_of INSTANCE ARGS...: the instance's charmed-etcd.etcdctl.
etcdctl_of() {
    local i="$1"
    shift
    snap_for "$i" run @.etcdctl "$@"
}

# plain_etcdctl INSTANCE ARGS...: the snap's etcdctl binary run directly,
# outside the snap's environment, so with none of charmed-etcd.etcdctl's
# defaults: what a user's own upstream etcdctl does.
plain_etcdctl() {
    local i="$1" bin
    shift
    if is_sim; then
        bin="$(sim_root "$i")/snap/$SNAP_NAME/current/bin/etcdctl"
    else
        bin="/snap/$i/current/bin/etcdctl"
    fi
    env -u SNAP -u SNAP_DATA -u SNAP_COMMON -u SNAP_INSTANCE_NAME "$bin" "$@"
}

# snap_common INSTANCE, snap_data INSTANCE: $SNAP_COMMON and $SNAP_DATA
# (current revision) as seen from outside the snap.
snap_common() {
    if is_sim; then
        echo "$(sim_root "$1")/var/snap/$SNAP_NAME/common"
    else
        echo "/var/snap/$1/common"
    fi
}
snap_data() {
    if is_sim; then
        echo "$(sim_root "$1")/var/snap/$SNAP_NAME/current"
    else
        echo "/var/snap/$1/current"
    fi
}

# workdir: this task's scratch directory.
workdir() {
    local d="$SPREAD_WORKDIR/${SPREAD_TASK##*/}"
    mkdir -p "$d"
    echo "$d"
}

# retry [-n N] [--wait S] CMD...: snapd's test helper: run CMD until it
# succeeds, N times (default 20), S seconds apart (default 1).
retry() {
    local n=20 wait=1
    while [ $# -gt 0 ]; do
        case "$1" in
            -n) n="$2"; shift 2 ;;
            --wait) wait="$2"; shift 2 ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    local i
    for ((i = 1; i <= n; i++)); do
        if "$@"; then
            return 0
        fi
        if [ "$i" -lt "$n" ]; then
            sleep "$wait"
        fi
    done
    echo "retry: '$*' failed $n times" >&2
    return 1
}

# MATCH REGEX / NOMATCH REGEX: snapd's assertions on stdin (grep -E); on a
# mismatch they show what they read.
MATCH() {
    local input
    input="$(cat)"
    if ! grep -q -E -e "$1" <<<"$input"; then
        echo "expected to match: $1" >&2
        echo "in: $input" >&2
        return 1
    fi
}
NOMATCH() {
    local input
    input="$(cat)"
    if grep -q -E -e "$1" <<<"$input"; then
        echo "expected not to match: $1" >&2
        echo "in: $input" >&2
        return 1
    fi
}

# mode_owner PATH: "mode uid:gid", as stat prints them (600 584788:584788).
mode_owner() { stat -c '%a %u:%g' "$1"; }

# healthy INSTANCE [ETCDCTL FLAGS...]: one health probe through the
# instance's etcdctl (its own endpoint and client TLS files unless FLAGS say
# otherwise; --cluster probes every member).
healthy() {
    local i="$1"
    shift
    etcdctl_of "$i" endpoint health --dial-timeout=2s --command-timeout=4s "$@" >/dev/null 2>&1
}

# wait_healthy INSTANCE [ETCDCTL FLAGS...]: wait until the member answers.
wait_healthy() {
    if ! retry -n 60 --wait 1 healthy "$@"; then
        service_logs "$1" >&2 || true
        return 1
    fi
}

# fingerprint_files INSTANCE: one line per TLS file and the rendered config
# (sha256 and name), to prove a refused change wrote nothing.
fingerprint_files() {
    local common data
    common="$(snap_common "$1")"
    data="$(snap_data "$1")"
    (cd "$common" && find tls -type f -print0 2>/dev/null | sort -z | xargs -0r sha256sum)
    sha256sum "$data/etcd.conf.yml" | sed "s|$data/||"
}

# shellcheck shell=bash
# Several charmed-etcd members on one machine: the snap and its parallel
# instances charmed-etcd_m2, charmed-etcd_m3..., named m1, m2, m3..., all on
# 127.0.0.1 with distinct ports from CLUSTER_PORT_BASE (client port
# BASE+10(n-1), peer port one above). Needs snap.sh and certs.sh.

: "${CLUSTER_PORT_BASE:=32379}"

# member_index INSTANCE: 1 for charmed-etcd, n for charmed-etcd_mn.
member_index() {
    case "$1" in
        "$SNAP_NAME") echo 1 ;;
        "$SNAP_NAME"_m*) echo "${1#"$SNAP_NAME"_m}" ;;
        *) echo "not a member instance: $1" >&2; return 1 ;;
    esac
}

member_name() { echo "m$(member_index "$1")"; }
client_port() { echo $((CLUSTER_PORT_BASE + 10 * ($(member_index "$1") - 1))); }
peer_port() { echo $(($(client_port "$1") + 1)); }

# initial_cluster INSTANCE...: name=host:port for every member (the scheme
# follows peer TLS, the snap adds it).
initial_cluster() {
    local i out=""
    for i in "$@"; do
        out="$out${out:+,}$(member_name "$i")=127.0.0.1:$(peer_port "$i")"
    done
    echo "$out"
}

# configure_member INSTANCE CLUSTER [OPTIONS...]: membership options (and
# any others) for one member.
configure_member() {
    local i="$1" cluster="$2"
    shift 2
    snap_set "$i" name="$(member_name "$i")" address=127.0.0.1 \
        client-port="$(client_port "$i")" peer-port="$(peer_port "$i")" \
        initial-cluster="$cluster" "$@"
}

# make_member_certs DIR INSTANCE...: DIR/{peer,client}-ca.{pem,key} and, for
# every member, DIR/{peer,client}-<name>.{pem,key}.
make_member_certs() {
    local dir="$1" i surface
    shift
    for surface in peer client; do
        [ -f "$dir/$surface-ca.pem" ] || make_ca "$dir" "$surface-ca"
        for i in "$@"; do
            make_leaf "$dir" "$surface-$(member_name "$i")" "$surface-ca"
        done
    done
}

# tls_options DIR INSTANCE SURFACE: print the snap set arguments giving a
# member its certificate, key and CA for a surface, NUL-separated (PEM holds
# newlines): read them with mapfile -d ''.
tls_options() {
    local dir="$1" name surface="$3"
    name="$(member_name "$2")"
    printf 'tls.%s.cert=%s\0' "$surface" "$(cat "$dir/$surface-$name.pem")"
    printf 'tls.%s.key=%s\0' "$surface" "$(cat "$dir/$surface-$name.key")"
    printf 'tls.%s.ca=%s\0' "$surface" "$(cat "$dir/$surface-ca.pem")"
}

# set_tls DIR INSTANCE SURFACE: turn a surface's TLS on for one member.
set_tls() {
    local opts=()
    mapfile -d '' opts < <(tls_options "$@")
    snap_set "$2" "${opts[@]}"
}

# listed_with THROUGH NAME PEER_SCHEME [CLIENT_SCHEME]: the member list, as
# seen through instance THROUGH, shows member NAME started with these schemes.
listed_with() {
    etcdctl_of "$1" member list -w simple --dial-timeout=2s --command-timeout=4s 2>/dev/null |
        grep -q -E "^[0-9a-f]+, started, $2, $3://127\.0\.0\.1:[0-9]+, ${4:-https?}://127\.0\.0\.1:[0-9]+, false$"
}

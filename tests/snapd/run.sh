#!/bin/bash
# Tests the charmed-etcd snap under the REAL snapd (Debian bookworm's), in a Docker container of
# our own image running systemd, with no store: local base core24 and snapd snaps, a probe snap
# that records snapd's hook/option contract, then the product. See tests/snapd/FINDINGS.md.
#
# Usage: tests/snapd/run.sh            (from the repo root, as root, Docker engine running)
# Environment:
#   PRIME=DIR        test this primed snap tree instead of building one from the work tree
#   KEEP_IMAGE=1     keep the Docker images afterwards (the rootfs tarballs are always cached)
#   KEEP=1           keep the container and temp folder for debugging (prints how to remove)
#   CACHE=DIR        cache folder (default /var/cache/charmed-etcd-snapd)
#   SNAPD_TEST_CPU=N the one CPU the container runs on (default: the last one)
# Always removes its container, images (unless KEEP_IMAGE) and temp folder on exit.
# Prints one line per check and ends with "N passed, N failed"; exit status 1 if any failed.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${CACHE:-/var/cache/charmed-etcd-snapd}
IMAGE=${SNAPD_TEST_IMAGE:-charmed-etcd-snapd:test}
C=charmed-etcd-snapd-$$
T0=$(date +%s)
TMP=$(mktemp -d /var/tmp/charmed-etcd-snapd-run.XXXXXX)
PASS=0 FAIL=0

log() { printf '[%4ss] %s\n' $(($(date +%s) - T0)) "$*"; }

cleanup() {
	local rc=$?
	if [ "${KEEP:-}" = 1 ]; then
		log "KEEP=1: container $C and $TMP left; remove with: docker rm -f $C; rm -rf $TMP"
		return $rc
	fi
	if docker container inspect "$C" >/dev/null 2>&1; then
		# Let snapd unmount its snaps and detach their loop devices before the container goes.
		docker exec "$C" sh -c 'systemctl stop snapd.service snapd.socket; for u in $(systemctl list-units --plain --no-legend "snap-*.mount" | cut -d" " -f1); do systemctl stop "$u"; done' >/dev/null 2>&1 || true
		docker rm -f "$C" >/dev/null 2>&1 || true
	fi
	if [ "${KEEP_IMAGE:-}" != 1 ]; then
		docker rmi "$IMAGE" "${IMAGE%%:*}:rootfs" >/dev/null 2>&1 || true
	fi
	rm -rf "$TMP"
	log "cleaned up (wall time $(($(date +%s) - T0)) s)"
	return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# dx CMD: run a shell command in the container; sets OUT, ERR, RC (never fails).
dx() {
	docker exec "$C" sh -c "$*" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
}
ok() { PASS=$((PASS + 1)); printf 'PASS [%4ss] %s\n' $(($(date +%s) - T0)) "$1"; }
bad() {
	FAIL=$((FAIL + 1)); printf 'FAIL [%4ss] %s\n' $(($(date +%s) - T0)) "$1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /'
	return 0
}
# check NAME EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "$(printf 'want: %s\ngot:  %s' "$2" "$3")"; fi; }
# check_has NAME NEEDLE HAYSTACK
check_has() {
	case "$3" in *"$2"*) ok "$1" ;; *) bad "$1" "$(printf 'want text containing: %s\ngot: %s' "$2" "$3")" ;; esac
}

# ---------------------------------------------------------------- 1. image
log "image"
"$HERE/build-image.sh" "$IMAGE" 2>&1 | grep -v -e DEPRECATED -e 'BuildKit is currently' -e 'environment-variable' -e '^ *$' || exit 1

# ---------------------------------------------------------------- 2. product tree
mkdir -p "$TMP/work"
if [ -n "${PRIME:-}" ]; then
	log "product: using PRIME=$PRIME"
	cp -a "$PRIME" "$TMP/work/prime"
else
	# The Makefile's own `make prime`, in a copy of the work tree (tracked and new files; of
	# tests/ only the snapsim module `make build` needs), so the repo's bin/ and prime/ that
	# other runs may be using are not touched. GOFLAGS=-p=1: the machine is shared.
	log "product: make prime in a copy of $REPO"
	mkdir -p "$TMP/src"
	(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
		grep -zv -e '^tests/' -e '^bin/' -e '^prime/' |
		while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
		xargs -0 cp --parents -t "$TMP/src" &&
		cp -r --parents tests/snapsim "$TMP/src") || { bad "copy work tree"; exit 1; }
	GOFLAGS=-p=1 make -s -C "$TMP/src" prime >"$TMP/make.log" 2>&1 || { bad "make prime" "$(tail -20 "$TMP/make.log")"; exit 1; }
	mv "$TMP/src/prime" "$TMP/work/prime"
	rm -rf "$TMP/src"
fi
cp -a "$HERE/probe" "$TMP/work/probe"
cp "$HERE/make-base.sh" "$HERE/mkcerts.sh" "$TMP/work/"

# ---------------------------------------------------------------- 3. container
log "container $C"
# Not --privileged: this host's root lacks CAP_SYS_RESOURCE, and runc fails "unable to apply
# caps" when asked for all. Everything else snapd needs is granted explicitly. No network.
# One CPU: on this kernel (6.18) mount namespace ids are handed out in per-CPU batches, so a
# namespace made on another CPU than the container's own can get a lower id, and the kernel's
# loop check then refuses snap-confine's bind mount of it into /run/snapd/ns ("cannot preserve
# mount namespace of process N as SNAP.mnt: Invalid argument"). On one CPU ids only grow.
CPU=${SNAPD_TEST_CPU:-$(($(nproc) - 1))}
docker run -d --name "$C" --hostname snapd-test --network none --cpuset-cpus "$CPU" \
	--cap-add ALL --cap-drop SYS_RESOURCE \
	--security-opt seccomp=unconfined --security-opt apparmor=unconfined \
	--device /dev/loop-control --device-cgroup-rule 'b 7:* rwm' \
	--cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
	--tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
	-v "$TMP/work:/work" -v "$CACHE:/cache:ro" \
	"$IMAGE" >/dev/null || { bad "docker run"; exit 1; }
# "offline" until systemd's manager answers; then is-system-running --wait blocks until booted.
dx 'for i in $(seq 60); do s=$(systemctl is-system-running --wait 2>/dev/null); case $s in running|degraded) echo $s; exit 0;; esac; sleep 1; done; echo $s; exit 1'
check "systemd is PID 1 and the system is running" running "$OUT"
dx 'timeout 120 snap wait system seed.loaded && snap debug seeding | head -1'
check "snapd seeded without a seed (no store)" "seeded:           true" "$OUT"
dx 'snap version | head -2 | tr -s " "'
log "$(echo $OUT)"

# ---------------------------------------------------------------- 4. base + snapd snaps
key=$( (sha256sum "$HERE/make-base.sh"; stat -c %s.%Y "$CACHE/base-rootfs.tar") | sha256sum | cut -c1-12)
if [ -s "$CACHE/core24-$key.snap" ] && [ -s "$CACHE/snapd-$key.snap" ]; then
	log "base: cached core24-$key.snap"
	cp "$CACHE/core24-$key.snap" "$TMP/work/core24.snap"
	cp "$CACHE/snapd-$key.snap" "$TMP/work/snapd.snap"
else
	log "base: packing core24 and snapd snaps"
	dx '/work/make-base.sh /cache/base-rootfs.tar /work/out'
	[ "$RC" = 0 ] || { bad "make-base.sh" "$ERR"; exit 1; }
	mv "$TMP"/work/out/core24_*.snap "$TMP/work/core24.snap"
	mv "$TMP"/work/out/snapd_*.snap "$TMP/work/snapd.snap"
	rm -f "$CACHE"/core24-*.snap "$CACHE"/snapd-*.snap
	cp "$TMP/work/core24.snap" "$CACHE/core24-$key.snap.part" && mv "$CACHE/core24-$key.snap.part" "$CACHE/core24-$key.snap"
	cp "$TMP/work/snapd.snap" "$CACHE/snapd-$key.snap.part" && mv "$CACHE/snapd-$key.snap.part" "$CACHE/snapd-$key.snap"
fi
dx 'snap install --dangerous /work/snapd.snap'
check "install local snapd snap (type snapd)" 0 "$RC"
[ "$RC" = 0 ] || { bad "snapd snap install output" "$ERR"; exit 1; }
dx 'snap install --dangerous /work/core24.snap'
check "install local core24 base" 0 "$RC"
[ "$RC" = 0 ] || { bad "core24 install output" "$ERR"; exit 1; }

# ---------------------------------------------------------------- 5. the probe: snapd's contract
log "probe snap"
dx 'snap pack /work/probe /work/out >/dev/null && snap install --dangerous /work/out/snapd-probe_1_all.snap'
check "install probe snap" 0 "$RC"
[ "$RC" = 0 ] || { bad "probe install output" "$ERR"; exit 1; }
dx 'snap tasks --last=install | sed -n "s/.*UTC  //p" | grep -E "hook|services"'
check "install: install hook, start services, configure hook, in that order" \
	"$(printf '%s\n' 'Run install hook of "snapd-probe" snap if present' 'Start snap "snapd-probe" (unset) services' 'Run configure hook of "snapd-probe" snap if present')" "$OUT"
dx 'cat /var/snap/snapd-probe/common/get-d-nokeys.out'
check "snapctl get -d with no key (2.57) fails" "$(printf 'error: error running snapctl: get which option?\nrc=1')" "$OUT"
dx 'cat /var/snap/snapd-probe/common/get-d.out /var/snap/snapd-probe/common/get-nosuch.out'
check "snapctl get of unset keys in a hook: {} / empty, exit 0" "$(printf '{}\nrc=0\n\nrc=0')" "$OUT"
dx 'grep -E "^(SNAP|SNAP_COMMON|SNAP_DATA|SNAP_NAME|SNAP_INSTANCE_NAME|SNAP_REVISION|SNAP_VERSION|HOME|PROBE_TOP)=" /var/snap/snapd-probe/common/configure.env'
check "configure hook environment" "$(printf '%s\n' HOME=/root/snap/snapd-probe/x1 PROBE_TOP=from-snap-yaml SNAP=/snap/snapd-probe/x1 \
	SNAP_COMMON=/var/snap/snapd-probe/common SNAP_DATA=/var/snap/snapd-probe/x1 SNAP_INSTANCE_NAME=snapd-probe \
	SNAP_NAME=snapd-probe SNAP_REVISION=x1 SNAP_VERSION=1)" "$OUT"
dx 'grep -c -E "^(SNAP_COOKIE|SNAP_CONTEXT)=" /var/snap/snapd-probe/common/configure.env'
check "hooks get SNAP_COOKIE and SNAP_CONTEXT" 2 "$OUT"

dx 'snap set snapd-probe a=1 b=true c={\"x\":1} d=abc e=\"1\" f=1.5 g=null h=[1,2] i=01 j=1e3 k=" spaced "'
check "snap set of mixed values" 0 "$RC"
dx 'snap get -d snapd-probe a b c d e f h i j k'
check "snap set types values (JSON when it parses, else string; null unsets)" \
	"$(printf '{\n\t"a": 1,\n\t"b": true,\n\t"c": {\n\t\t"x": 1\n\t},\n\t"d": "abc",\n\t"e": "1",\n\t"f": 1.5,\n\t"h": [\n\t\t1,\n\t\t2\n\t],\n\t"i": "01",\n\t"j": 1e3,\n\t"k": " spaced "\n}')" "$OUT"
dx 'snap get snapd-probe g'
check "snap get of an unset key: error text" 'error: snap "snapd-probe" has no "g" configuration option' "$ERR"
check "snap get of an unset key: exit 1" 1 "$RC"
dx 'snap get snapd-probe a b'
check "snap get with several keys and no -d warns on stderr" \
	"WARNING: The output of 'snap get' will become a list with columns - use -d or -l to force the output format.\\n" "$ERR"
dx 'snap get snapd-probe c.x; snap get snapd-probe d'
check "snap get of one scalar prints it bare" "$(printf '1\nabc')" "$OUT"
dx 'snap set -s snapd-probe s=123; snap set -t snapd-probe t=123; snap get -d snapd-probe s t'
check "snap set -s / -t" "$(printf '{\n\t"s": "123",\n\t"t": 123\n}')" "$OUT"

dx 'snap set snapd-probe mode=fail-stderr a=2'
check "failed configure hook: snap set exits 1" 1 "$RC"
check "failed configure hook: one-line output" \
	"$(printf '%s\n' 'error: cannot perform the following tasks:' '- Run configure hook of "snapd-probe" snap (run hook "configure": bad value: from stderr)')" "$ERR"
dx 'snap get snapd-probe a'
check "failed configure hook: the whole set is rolled back" 1 "$OUT"
dx 'snap set snapd-probe mode=fail-both a=2'
check "failed configure hook: several lines (stdout and stderr combined)" \
	"$(printf '%s\n' 'error: cannot perform the following tasks:' '- Run configure hook of "snapd-probe" snap (run hook "configure": ' '-----' 'line from stdout' 'line from stderr' '-----)')" "$ERR"
dx 'snap set snapd-probe mode=fail-silent a=2'
check "failed configure hook: no output" \
	"$(printf '%s\n' 'error: cannot perform the following tasks:' '- Run configure hook of "snapd-probe" snap (run hook "configure": exit status 3)')" "$ERR"
dx 'snap set snapd-probe mode=fail-after-set a=2; snap get -d snapd-probe written-by-hook'
check "failed configure hook: its own snapctl set is discarded too" 1 "$RC"
dx 'snap set snapd-probe mode=set-in-hook a=2; snap get snapd-probe written-by-hook'
check "successful configure hook: its snapctl set is kept" yes "$OUT"
dx 'snap set snapd-probe Bad=1'
check "invalid option name" "$(printf '%s\n' 'error: cannot perform the following tasks:' '- Run configure hook of "snapd-probe" snap (invalid option name: "Bad")')" "$ERR"

dx 'snap start --enable snapd-probe.svc >/dev/null && sleep 1 && snap services snapd-probe'
check "snap services table" "$(printf '%s\n' 'Service          Startup  Current  Notes' 'snapd-probe.svc  enabled  active   -')" "$OUT"
dx ': >/var/snap/snapd-probe/common/order.log; snap set snapd-probe mode=restart z=1; sleep 2; sed -E "s/ [0-9.]+( uid=.*)?\$//" /var/snap/snapd-probe/common/order.log'
check "snapctl restart runs after the configure hook succeeded" \
	"$(printf '%s\n' 'configure' 'restart requested' 'svc term' 'svc start')" "$OUT"
dx ': >/var/snap/snapd-probe/common/order.log; snap set snapd-probe mode=restart-fail z=2; sleep 2; cut -d" " -f1 /var/snap/snapd-probe/common/order.log'
check "snapctl restart asked by a failing hook is dropped" configure "$OUT"
dx 'grep -c -E "^(SNAP|SNAP_DATA|SNAP_COMMON|PROBE_TOP)=" /var/snap/snapd-probe/common/svc.env'
check "daemon environment has SNAP, SNAP_DATA, SNAP_COMMON and snap.yaml environment" 4 "$OUT"
dx 'snap remove --purge snapd-probe'
check "remove --purge probe" 0 "$RC"

# ---------------------------------------------------------------- 6. the product
log "charmed-etcd"
# snap pack = checks + mksquashfs -comp xz, which takes minutes for 75 MB of Go binaries on one
# CPU (lzo still ~45 s). Same checks (--check-skeleton), then an uncompressed squashfs: < 1 s.
dx 'snap pack --check-skeleton /work/prime && mksquashfs /work/prime /work/out/charmed-etcd.snap -noappend -noI -noD -noF -noX -no-fragments -all-root -no-progress -quiet && snap install --dangerous /work/out/charmed-etcd.snap'
check "install charmed-etcd (install and configure hooks with no options)" 0 "$RC"
[ "$RC" = 0 ] || { bad "charmed-etcd install output" "$ERR"; exit 1; }
dx 'snap get -d charmed-etcd'
check "no options stored after install" "{}" "$OUT"
dx 'snap services charmed-etcd'
check "daemon installed disabled" "$(printf '%s\n' 'Service            Startup   Current   Notes' 'charmed-etcd.etcd  disabled  inactive  -')" "$OUT"
dx 'stat -c "%a %U" /var/snap/charmed-etcd/current/etcd.conf.yml'
check "rendered config 0600 snap_daemon" "600 snap_daemon" "$OUT"

dx 'snap set charmed-etcd name=m1 address=127.0.0.1'
check "snap set name address" 0 "$RC"
dx 'snap start --enable charmed-etcd.etcd'
check "snap start --enable" "Started." "$OUT"
dx 'for i in $(seq 30); do PATH=$PATH:/snap/bin charmed-etcd.etcdctl member list -w table 2>/dev/null && exit 0; sleep 1; done; exit 1'
if [ "$RC" = 0 ]; then
	check_has "charmed-etcd.etcdctl member list -w table" "|   m1 | http://127.0.0.1:2380 | http://127.0.0.1:2379 |" "$OUT"
else
	dx 'snap services charmed-etcd; snap logs -n 8 charmed-etcd.etcd'
	bad "charmed-etcd.etcd serves (member list)" "$OUT"
fi
dx 'snap run --shell charmed-etcd.etcdctl -c env | grep -E "^(SNAP|SNAP_DATA|SNAP_COMMON|PATH)=" | sort'
check "app environment (snap run --shell)" \
	"$(printf '%s\n' "PATH=/snap/charmed-etcd/x1/usr/sbin:/snap/charmed-etcd/x1/usr/bin:/snap/charmed-etcd/x1/sbin:/snap/charmed-etcd/x1/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games" \
		SNAP=/snap/charmed-etcd/x1 SNAP_COMMON=/var/snap/charmed-etcd/common SNAP_DATA=/var/snap/charmed-etcd/x1)" "$OUT"

dx 'snap set charmed-etcd client-port=abc'
check "refused client-port=abc: exit 1" 1 "$RC"
check "refused client-port=abc: message" \
	"$(printf '%s\n' 'error: cannot perform the following tasks:' '- Run configure hook of "charmed-etcd" snap (run hook "configure": cannot use client-port: expected a whole number, got "abc")')" "$ERR"
dx 'snap set charmed-etcd tls.peer.cert=garbage tls.peer.key=garbage tls.peer.ca=garbage'
check_has "refused garbage peer certificate" '(run hook "configure": cannot use tls.peer.cert: ' "$ERR"
dx 'snap get -d charmed-etcd'
check "refused sets rolled back" "$(printf '{\n\t"address": "127.0.0.1",\n\t"name": "m1"\n}')" "$OUT"

dx '/work/mkcerts.sh /root/certs && cd /root/certs && snap set charmed-etcd tls.peer.cert="$(cat peer.pem)" tls.peer.key="$(cat peer.key)" tls.peer.ca="$(cat ca.pem)"'
check "peer TLS on a running member" 0 "$RC"
[ "$RC" = 0 ] || bad "peer TLS output" "$ERR"
dx 'snap get charmed-etcd tls.peer.key'
check_has "stored key replaced by its fingerprint" "sha256:" "$OUT"
dx 'cd /root/certs && snap set charmed-etcd tls.client.cert="$(cat client.pem)" tls.client.key="$(cat client.key)" tls.client.ca="$(cat ca.pem)"'
check "client TLS (mutual) on a running member" 0 "$RC"
dx 'for i in $(seq 30); do PATH=$PATH:/snap/bin charmed-etcd.etcdctl member list -w table 2>/dev/null | grep -q "https://127.0.0.1:2380 | https://127.0.0.1:2379" && exit 0; sleep 1; done; exit 1'
check "member list with https peer and client URLs (etcdctl defaults to client TLS)" 0 "$RC"
dx 'snap unset charmed-etcd tls.client'
check "snap unset tls.client" 0 "$RC"
dx 'for i in $(seq 30); do PATH=$PATH:/snap/bin charmed-etcd.etcdctl member list -w table 2>/dev/null | grep -q "https://127.0.0.1:2380 | http://127.0.0.1:2379 " && exit 0; sleep 1; done; exit 1'
check "client TLS off again" 0 "$RC"

dx 'snap remove --purge charmed-etcd'
check "snap remove --purge charmed-etcd" 0 "$RC"

if [ "$FAIL" != 0 ]; then
	dx 'journalctl --no-pager -n 60 -u snapd -u "snap.*"'
	echo "---- journal (last 60 lines) ----"; echo "$OUT"
fi
log "done"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

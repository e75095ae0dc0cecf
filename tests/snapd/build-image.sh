#!/bin/bash
# Builds the Docker image charmed-etcd-snapd:test (Debian bookworm + systemd + snapd) from a
# debootstrap tree, without pulling anything. The rootfs tarball is cached under
# $CACHE (default /var/cache/charmed-etcd-snapd), so a second run only does `docker import`.
# Also caches a rootfs tarball for the local base snap (core24 stand-in).
#
# Usage: tests/snapd/build-image.sh [IMAGE_TAG]   (also tags IMAGE:rootfs, the bare tree)
set -euo pipefail

TAG=${1:-${SNAPD_TEST_IMAGE:-charmed-etcd-snapd:test}}
CACHE=${CACHE:-/var/cache/charmed-etcd-snapd}
SUITE=bookworm
# The same mirror as the host's apt sources (first deb.debian.org-style URI found).
MIRROR=${MIRROR:-$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
                   | awk '{print $2}' | head -n1 || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

IMAGE_PKGS=systemd,systemd-sysv,dbus,dbus-user-session,snapd,squashfs-tools,udev,openssl,iproute2,ca-certificates,procps,less
BASE_PKGS=ca-certificates,openssl,iproute2

log() { echo "build-image: $*" >&2; }

need() {
	command -v "$1" >/dev/null 2>&1 && return
	log "installing $2"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need debootstrap debootstrap

mkdir -p "$CACHE"
TMP=$(mktemp -d /var/tmp/charmed-etcd-snapd.XXXXXX)
cleanup() {
	# debootstrap may leave proc/sys mounted on failure
	for m in $(awk -v t="$TMP" 'index($2,t)==1{print $2}' /proc/mounts | sort -r); do umount -l "$m" || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# bootstrap DIR PKGS VARIANT OUT.tar
bootstrap() {
	local dir=$1 pkgs=$2 out=$3
	log "debootstrap $SUITE ($pkgs) from $MIRROR"
	debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$dir" "$MIRROR" >"$TMP/debootstrap.log" 2>&1 \
		|| { tail -n 30 "$TMP/debootstrap.log" >&2; return 1; }
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
	tar -C "$dir" --numeric-owner -cf "$out.part" . && mv "$out.part" "$out"
}

if [ ! -s "$CACHE/image-rootfs.tar" ]; then
	bootstrap "$TMP/image" "$IMAGE_PKGS" "$CACHE/image-rootfs.tar"
	rm -rf "$TMP/image"
fi
if [ ! -s "$CACHE/base-rootfs.tar" ]; then
	bootstrap "$TMP/base" "$BASE_PKGS" "$CACHE/base-rootfs.tar"
	rm -rf "$TMP/base"
fi

ROOTFS_TAG=${TAG%%:*}:rootfs
if ! docker image inspect "$ROOTFS_TAG" >/dev/null 2>&1; then
	log "docker import -> $ROOTFS_TAG"
	docker import "$CACHE/image-rootfs.tar" "$ROOTFS_TAG" >/dev/null
fi
log "docker build -> $TAG"
# Legacy builder: BuildKit would want to pull its frontend; FROM is the local rootfs image.
DOCKER_BUILDKIT=0 docker build -q -t "$TAG" "$(dirname "$0")/image" >/dev/null
log "done: $TAG"

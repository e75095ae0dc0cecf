#!/bin/bash
# Runs INSIDE the test container (it needs `snap pack`). Packs two local snaps into OUTDIR:
#
# core24_24-local_amd64.snap: a base named core24 (type: base) made from a Debian root
#   filesystem tarball, stand-in for the store's core24 (Ubuntu 24.04). The directories below
#   are the mount targets snap-confine needs in a base (cmd/snap-confine/mount-support.c:
#   sc_populate_mount_ns, plus /snap, /usr/lib/snapd and /var/lib/snapd/hostfs); the real
#   core24 has the same set.
# snapd_0.0.1~local_all.snap: an empty snap of type snapd. On a seeded classic system snapd
#   installs the snapd snap from the store before any snap whose base is not "core"
#   (overlord/snapstate/handlers.go, installPrereqs); with it installed it does not ask. Its
#   version is lower than the distribution's, so snapd never re-executes into it
#   (snapdtool.systemSnapSupportsReExec).
#
# Usage: make-base.sh ROOTFS.tar OUTDIR
set -euo pipefail
tarball=$1 out=$2
work=$(mktemp -d /tmp/core24.XXXXXX)  # tmpfs: much faster than the container overlay
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"
tar -C "$root" --numeric-owner -xf "$tarball"

# /dev, /proc, /sys, /run, /tmp are mounted over by snap-confine: keep them empty.
rm -rf "$root"/dev/* "$root"/proc/* "$root"/sys/* "$root"/run/* "$root"/tmp/* "$root"/var/tmp/*
for d in dev etc home root proc sys tmp run snap media mnt usr/src usr/lib/snapd \
	var/snap var/lib/snapd var/lib/snapd/hostfs var/lib/extrausers var/log var/tmp \
	lib/modules lib/firmware writable; do
	mkdir -p "$root/$d"
done
chmod 1777 "$root/tmp" "$root/var/tmp"
# Hooks and apps find snapctl on PATH: real bases link /usr/bin/snapctl into /usr/lib/snapd,
# which snap-confine bind-mounts from the host's snapd.
ln -sfn ../lib/snapd/snapctl "$root/usr/bin/snapctl"

mkdir -p "$root/meta"
cat >"$root/meta/snap.yaml" <<'YAML'
name: core24
type: base
version: 24-local
summary: Local stand-in for core24 (Debian bookworm root filesystem)
description: |
  Built by tests/snapd/make-base.sh from a debootstrap tree, for testing
  snaps with base core24 under real snapd without the store.
architectures: [amd64]
grade: devel
confinement: strict
YAML
snap pack --compression=lzo "$root" "$out" >&2

sd=$work/snapd
mkdir -p "$sd/meta" "$sd/usr/lib/snapd"
cat >"$sd/meta/snap.yaml" <<'YAML'
name: snapd
type: snapd
version: 0.0.1~local
summary: Empty stand-in for the snapd snap
description: snapd runs from the distribution package; this only satisfies the prerequisite.
grade: devel
confinement: strict
YAML
echo 'VERSION=0.0.1~local' >"$sd/usr/lib/snapd/info"
snap pack "$sd" "$out" >&2

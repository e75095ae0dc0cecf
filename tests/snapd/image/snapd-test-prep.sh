#!/bin/sh
# Early boot fix-ups for snapd in a Docker container (see tests/snapd/FINDINGS.md).
set -e
# 1. systemd makes / shared only outside containers. When neither / nor /snap is shared,
#    snap-confine bind-mounts /snap over itself on first use (sc_ensure_shared_snap_mount),
#    hiding the squashfs mounts systemd made under it: their unmount then fails with
#    "not mounted". Do that bind before any snap is mounted. (Making / rshared instead breaks
#    snap-confine: binding the new mount namespace to /run/snapd/ns fails with EINVAL.)
mkdir -p /snap
mount --bind /snap /snap
mount --make-rshared /snap
# 2. Docker gives the container /dev/loop-control but no /dev/loopN nodes; losetup needs them.
i=0
while [ $i -lt 64 ]; do
	[ -e /dev/loop$i ] || mknod -m 0660 /dev/loop$i b 7 $i
	i=$((i + 1))
done

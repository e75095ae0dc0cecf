package privileges

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// nobody stands for any other local user.
const nobody = 65534

// TestOnlyTheDaemonUserReadsSecrets installs the snap, turns peer and client
// TLS on, starts the member, and checks DESIGN.md section 3: the rendered
// configuration (0600), the TLS directory (0700) with its keys (0600) and
// the data directory (0700) belong to uid 584788, another user can read
// none of them while the daemon user can, and the running daemon is 584788.
func TestOnlyTheDaemonUserReadsSecrets(t *testing.T) {
	u := newUnit(t)
	u.must("install", u.prime)
	u.must(newMember(t).setArgs(t)...)
	u.must("start", "--enable", snapName+".etcd")
	u.waitHealthy()
	if _, err := u.etcdctl("put", "privileges", "checked"); err != nil {
		t.Fatalf("put: %v", err)
	}

	owner(t, u.config(), 0o600)
	owner(t, u.tlsDir(), 0o700)
	for _, key := range []string{snapenv.PeerKey, snapenv.ClientKey} {
		owner(t, filepath.Join(u.tlsDir(), key), 0o600)
	}
	for name := range snapshotDir(t, u.tlsDir()) {
		st, _ := os.Stat(filepath.Join(u.tlsDir(), name))
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is open to others: mode %#o", name, st.Mode().Perm())
		}
	}
	owner(t, u.dataDir(), 0o700)

	db := filepath.Join(u.dataDir(), "member", "snap", "db")
	reads := []struct {
		what string
		cmd  []string
	}{
		{"peer key", []string{"cat", filepath.Join(u.tlsDir(), snapenv.PeerKey)}},
		{"client key", []string{"cat", filepath.Join(u.tlsDir(), snapenv.ClientKey)}},
		{"rendered configuration", []string{"cat", u.config()}},
		{"data directory listing", []string{"ls", "-A", u.dataDir()}},
		{"database", []string{"cat", db}},
	}
	for _, r := range reads {
		n, stderr, err := asUser(t, nobody, nobody, r.cmd[0], r.cmd[1:]...)
		if err == nil || n > 0 {
			t.Errorf("uid %d could read the %s (%d bytes)", nobody, r.what, n)
		} else if !strings.Contains(stderr, "Permission denied") {
			t.Errorf("uid %d reading the %s failed, but not for permissions: %s", nobody, r.what, stderr)
		}
		n, stderr, err = asUser(t, snapenv.DaemonUID, snapenv.DaemonGID, r.cmd[0], r.cmd[1:]...)
		if err != nil || n == 0 {
			t.Errorf("uid %d cannot read the %s: %v: %s", snapenv.DaemonUID, r.what, err, stderr)
		}
	}

	pid := u.daemonPID()
	want := strconv.Itoa(snapenv.DaemonUID)
	for _, field := range []string{"Uid", "Gid"} {
		got := ids(t, pid, field)
		for _, id := range got {
			if id != want {
				t.Errorf("daemon (pid %d) %s: %v, want %s everywhere", pid, field, got, want)
				break
			}
		}
	}
	if groups := ids(t, pid, "Groups"); len(groups) > 1 || (len(groups) == 1 && groups[0] != want) {
		t.Errorf("daemon (pid %d) keeps supplementary groups %v", pid, groups)
	}
}

// TestRefreshKeepsDataAndCertificates refreshes a running single member with
// peer and client TLS to a new revision: the post-refresh hook renders the
// configuration for the new revision, and the member comes back serving
// the same data with byte-identical certificate files.
func TestRefreshKeepsDataAndCertificates(t *testing.T) {
	u := newUnit(t)
	u.must("install", u.prime)
	u.must(newMember(t).setArgs(t)...)
	u.must("start", "--enable", snapName+".etcd")
	u.waitHealthy()
	if out, err := u.etcdctl("put", "refresh-key", "kept"); err != nil {
		t.Fatalf("put: %v\n%s", err, out)
	}
	before := snapshotDir(t, u.tlsDir())
	if len(before) < 6 {
		t.Fatalf("expected the six TLS files, found %d", len(before))
	}
	oldRev, oldPID := u.revision(), u.daemonPID()

	u.must("refresh", u.prime)

	newRev := u.revision()
	if newRev == oldRev {
		t.Fatalf("still on revision %s after refresh", oldRev)
	}
	hook := filepath.Join(u.root, "snap", snapName, newRev, "meta", "hooks", "post-refresh")
	if st, err := os.Stat(hook); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("revision %s has no executable post-refresh hook: %v", newRev, err)
	}
	u.waitHealthy()
	out, err := u.etcdctl("get", "--print-value-only", "refresh-key")
	if err != nil || strings.TrimSpace(out) != "kept" {
		t.Errorf("after refresh, get refresh-key = %q, %v; want kept", strings.TrimSpace(out), err)
	}
	after := snapshotDir(t, u.tlsDir())
	for name, b := range before {
		a, ok := after[name]
		switch {
		case !ok:
			t.Errorf("%s is gone after refresh", name)
		case a != b:
			t.Errorf("%s changed in refresh: %+v -> %+v", name, b, a)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s appeared in refresh", name)
		}
	}
	owner(t, filepath.Join(u.root, "var", "snap", snapName, newRev, "etcd.conf.yml"), 0o600)
	owner(t, u.dataDir(), 0o700)
	newPID := u.daemonPID()
	if newPID == oldPID {
		t.Errorf("daemon kept pid %d across the refresh: it still runs revision %s", oldPID, oldRev)
	}
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(newPID) + "/exe")
	if !strings.Contains(exe, "/"+newRev+"/") {
		t.Errorf("daemon runs %s, not revision %s", exe, newRev)
	}
}

package privileges

import (
	"os/exec"
	"testing"
)

// snapsim runs hooks and daemons unconfined. Under strict confinement snapd
// takes two more things away from root inside the snap, and these tests put
// them back in the picture:
//
//   - AppArmor does not grant CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH, so
//     root in a hook or in the daemon (before it drops) cannot read, list or
//     write a file or directory that belongs to snap_daemon and is closed to
//     others (snapcraft.io/docs/system-usernames, "Ownership"). Dropping the
//     two capabilities from the bounding set of snapsim reproduces that.
//   - seccomp allows setgroups only with an empty list (setgroups 0 - in
//     snapd's template): a daemon that keeps snap_daemon as a supplementary
//     group called setgroups(1, ...), which confinement refuses with EPERM.

// sandboxed is a unit whose snapsim, hooks and daemon run without the DAC
// override capabilities, as root does inside a strictly confined snap.
func sandboxed(t *testing.T) *unit {
	t.Helper()
	u := newUnit(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is needed to drop capabilities: %v", err)
	}
	u.wrap = []string{setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search", "--"}
	return u
}

// TestWorksWithoutDACOverride runs the life of a member as the sandbox
// allows it: install, TLS on, first start, a renewed leaf, a restart.
func TestWorksWithoutDACOverride(t *testing.T) {
	u := sandboxed(t)
	u.must("install", u.prime)
	m := newMember(t)
	u.must(m.setArgs(t)...)
	u.must("start", "--enable", snapName+".etcd")
	u.waitHealthy()
	u.must(m.renewClientArgs(t)...)
	u.must("restart", snapName+".etcd")
	u.waitHealthy()
}

// TestDaemonClearsSupplementaryGroups checks that the daemon dropped its
// supplementary groups the only way snapd's seccomp filter allows.
func TestDaemonClearsSupplementaryGroups(t *testing.T) {
	u := newUnit(t)
	u.must("install", u.prime)
	u.must(newMember(t).setArgs(t)...)
	u.must("start", "--enable", snapName+".etcd")
	u.waitHealthy()
	pid := u.daemonPID()
	if groups := ids(t, pid, "Groups"); len(groups) != 0 {
		t.Errorf("daemon (pid %d) has supplementary groups %v: it must call setgroups with an empty list "+
			"(syscall.Setgroups(nil)); snapd's seccomp filter refuses setgroups(1, ...) with EPERM", pid, groups)
	}
}

// Package layout names the files and directories snapsim keeps under a unit
// root. The snap-visible part mirrors snapd's layout (dirs.SetRootDir(ROOT)):
// ROOT/snap/<name>/<rev>, ROOT/var/snap/<name>/{<rev>,common,current}.
package layout

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// Root is one simulated machine: everything snapsim reads or writes lives below Dir.
type Root struct {
	Dir string
}

// New returns a Root for dir, made absolute.
func New(dir string) (Root, error) {
	if dir == "" {
		return Root{}, fmt.Errorf("no root given: use --root DIR or set SNAPSIM_ROOT")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Root{}, err
	}
	return Root{Dir: abs}, nil
}

// FromSnapDir derives the root from a $SNAP value (ROOT/snap/<name>/<rev>).
func FromSnapDir(snapDir string) (Root, error) {
	if snapDir == "" {
		return Root{}, fmt.Errorf("$SNAP is not set")
	}
	clean := filepath.Clean(snapDir)
	return New(filepath.Dir(filepath.Dir(filepath.Dir(clean))))
}

func (r Root) join(parts ...string) string {
	return filepath.Join(append([]string{r.Dir}, parts...)...)
}

// SnapMountDir is where snaps are "mounted" (ROOT/snap).
func (r Root) SnapMountDir() string { return r.join("snap") }

// SnapBaseDir is ROOT/snap/<name>.
func (r Root) SnapBaseDir(name string) string { return r.join("snap", name) }

// MountDir is $SNAP: ROOT/snap/<name>/<rev>.
func (r Root) MountDir(name, rev string) string { return r.join("snap", name, rev) }

// CurrentLink is ROOT/snap/<name>/current.
func (r Root) CurrentLink(name string) string { return r.join("snap", name, "current") }

// DataBaseDir is ROOT/var/snap/<name>.
func (r Root) DataBaseDir(name string) string { return r.join("var", "snap", name) }

// DataDir is $SNAP_DATA: ROOT/var/snap/<name>/<rev>.
func (r Root) DataDir(name, rev string) string { return r.join("var", "snap", name, rev) }

// CommonDir is $SNAP_COMMON: ROOT/var/snap/<name>/common.
func (r Root) CommonDir(name string) string { return r.join("var", "snap", name, "common") }

// DataCurrentLink is ROOT/var/snap/<name>/current.
func (r Root) DataCurrentLink(name string) string { return r.join("var", "snap", name, "current") }

// StateDir holds snapsim's own bookkeeping (ROOT/var/lib/snapsim).
func (r Root) StateDir() string { return r.join("var", "lib", "snapsim") }

// StateFile is the JSON state (options, installed snap, service startup).
func (r Root) StateFile() string { return filepath.Join(r.StateDir(), "state.json") }

// LockFile is flock()ed by every command that changes the state.
func (r Root) LockFile() string { return filepath.Join(r.StateDir(), "state.lock") }

// HealthFile holds the snaps' health (set-health), under its own lock.
func (r Root) HealthFile() string { return filepath.Join(r.StateDir(), "health.json") }

// HealthLockFile guards HealthFile.
func (r Root) HealthLockFile() string { return filepath.Join(r.StateDir(), "health.lock") }

// CookieFile holds the snap's app cookie (SNAP_COOKIE for apps and daemons).
func (r Root) CookieFile(name string) string {
	return filepath.Join(r.StateDir(), "cookie", "snap."+name)
}

// RunDir holds the per-service runtime status written by the supervisors.
func (r Root) RunDir() string { return filepath.Join(r.StateDir(), "run") }

// ServiceStatusFile is the runtime status of one service.
func (r Root) ServiceStatusFile(snapName, app string) string {
	return filepath.Join(r.RunDir(), "snap."+snapName+"."+app+".json")
}

// LogDir holds one log file per service (ROOT/var/log/snapsim).
func (r Root) LogDir() string { return r.join("var", "log", "snapsim") }

// ServiceLog is where a service's stdout and stderr are appended.
func (r Root) ServiceLog(snapName, app string) string {
	return filepath.Join(r.LogDir(), snapName+"."+app+".log")
}

// SupervisorLog collects the supervisors' own messages (systemd's journal lines).
func (r Root) SupervisorLog() string { return filepath.Join(r.LogDir(), "supervisor.log") }

// BinDir holds the snapctl link that is first on the apps' and hooks' PATH.
func (r Root) BinDir() string { return r.join("usr", "bin") }

// HomeDir is the simulated home of the invoking user: ROOT/root for uid 0,
// ROOT/home/<user> otherwise.
func (r Root) HomeDir(uid int) string {
	if uid == 0 {
		return r.join("root")
	}
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil && u.Username != "" {
		name = u.Username
	}
	return r.join("home", name)
}

// UserDataDir is $SNAP_USER_DATA for the given home.
func UserDataDir(home, snapName, rev string) string {
	return filepath.Join(home, "snap", snapName, rev)
}

// UserCommonDir is $SNAP_USER_COMMON for the given home.
func UserCommonDir(home, snapName string) string {
	return filepath.Join(home, "snap", snapName, "common")
}

// XdgRuntimeDir is ROOT/run/user/<uid>/snap.<name>.
func (r Root) XdgRuntimeDir(uid int, snapName string) string {
	return r.join("run", "user", strconv.Itoa(uid), "snap."+snapName)
}

// EnsureStateDirs creates snapsim's private directories.
func (r Root) EnsureStateDirs() error {
	for _, d := range []string{r.StateDir(), filepath.Dir(r.CookieFile("x")), r.RunDir(), r.LogDir()} {
		if err := os.MkdirAll(d, 0755); err != nil {
			return err
		}
	}
	return nil
}

package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// SnapName is the snap under test; Service its daemon.
const (
	SnapName = "charmed-etcd"
	Service  = SnapName + ".etcd"
)

// Unit is one snapsim root with the primed snap installed.
type Unit struct {
	Root    string
	Snapsim string
}

// Snap runs snapsim against the unit and returns its output and wall time.
func (u *Unit) Snap(ctx context.Context, args ...string) (string, time.Duration, error) {
	cmd := exec.CommandContext(ctx, u.Snapsim, append([]string{"--root", u.Root}, args...)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		// Never echo the arguments: they hold key material.
		return buf.String(), d, fmt.Errorf("snap %s failed: %v: %s", args[0], err, strings.TrimSpace(buf.String()))
	}
	return buf.String(), d, nil
}

// Snap is $SNAP (the installed tree) of the current revision.
func (u *Unit) SnapDir() string { return u.resolve(filepath.Join(u.Root, "snap", SnapName, "current")) }

// Data is $SNAP_DATA of the current revision.
func (u *Unit) Data() string {
	return u.resolve(filepath.Join(u.Root, "var", "snap", SnapName, "current"))
}

// Common is $SNAP_COMMON.
func (u *Unit) Common() string { return filepath.Join(u.Root, "var", "snap", SnapName, "common") }

// Config is the rendered etcd configuration the daemon reads.
func (u *Unit) Config() string { return filepath.Join(u.Data(), "etcd.conf.yml") }

// TLSDir is where the hook writes the TLS set.
func (u *Unit) TLSDir() string { return filepath.Join(u.Common(), "tls") }

// EtcdData is etcd's data directory.
func (u *Unit) EtcdData() string { return filepath.Join(u.Common(), "var", "lib", "etcd") }

func (u *Unit) resolve(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// Env is the snap environment the daemon reads, for running it directly.
func (u *Unit) Env() []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"SNAP=" + u.SnapDir(), "SNAP_DATA=" + u.Data(), "SNAP_COMMON=" + u.Common(),
		"SNAP_NAME=" + SnapName, "SNAP_INSTANCE_NAME=" + SnapName,
	}
}

// DaemonPID is the main PID snapsim records for the daemon (0 if none).
func (u *Unit) DaemonPID() int {
	b, err := os.ReadFile(filepath.Join(u.Root, "var", "lib", "snapsim", "run", "snap."+Service+".json"))
	if err != nil {
		return 0
	}
	var st struct {
		MainPID int `json:"main-pid"`
	}
	if json.Unmarshal(b, &st) != nil {
		return 0
	}
	return st.MainPID
}

// DaemonLog is the daemon's log file under snapsim.
func (u *Unit) DaemonLog() string {
	return filepath.Join(u.Root, "var", "log", "snapsim", Service+".log")
}

// Install installs the primed tree and sets this member's options.
func (u *Unit) Install(ctx context.Context, prime string, opts ...string) error {
	if _, _, err := u.Snap(ctx, "install", prime); err != nil {
		return err
	}
	_, _, err := u.Snap(ctx, append([]string{"set", SnapName}, opts...)...)
	return err
}

// ResetData removes etcd's data directory, so that each run starts a new
// single-member cluster from nothing.
func (u *Unit) ResetData() error { return os.RemoveAll(u.EtcdData()) }

// Package services runs a snap's daemons as systemd would run the units snapd
// generates for them: one detached supervisor process per service (its own
// session), the daemon in its own process group with $SNAP_DATA as working
// directory, output appended to a log file, restart-condition honoured, and
// stop = stop-command, then the stop-mode signal (SIGTERM) to the group, then
// SIGKILL after stop-timeout (snapd's default: 30s).
package services

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/snapcore/snapd/snap"
	"github.com/snapcore/snapd/timeout"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/runner"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/snapinfo"
)

// Target is one service of the current revision of an installed snap.
type Target struct {
	Ctx    *runner.Context
	App    *snap.AppInfo
	Cookie string
}

// LoadCurrent reads the current revision of snapName installed under root.
func LoadCurrent(root layout.Root, snapName string) (*snap.Info, error) {
	rev, err := os.Readlink(root.CurrentLink(snapName))
	if err != nil {
		return nil, fmt.Errorf("snap %q is not installed", snapName)
	}
	r, err := snap.ParseRevision(rev)
	if err != nil {
		return nil, fmt.Errorf("cannot read revision %s: %v", rev, err)
	}
	return snapinfo.ReadInstalled(root.MountDir(snapName, rev), r)
}

// ReadCookie returns the snap's app cookie (empty when there is none).
func ReadCookie(root layout.Root, snapName string) string {
	data, err := os.ReadFile(root.CookieFile(snapName))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// LoadTarget finds service appName of the current revision of snapName.
func LoadTarget(root layout.Root, snapName, appName string) (*Target, error) {
	info, err := LoadCurrent(root, snapName)
	if err != nil {
		return nil, err
	}
	app := info.Apps[appName]
	if app == nil || !app.IsService() {
		return nil, fmt.Errorf("snap %q has no service %q", snapName, appName)
	}
	return &Target{
		Ctx:    &runner.Context{Root: root, Info: info, UID: os.Getuid(), EUID: os.Geteuid()},
		App:    app,
		Cookie: ReadCookie(root, snapName),
	}, nil
}

// StopTimeout is the app's stop-timeout, or snapd's default (30s).
func StopTimeout(app *snap.AppInfo) time.Duration {
	t := app.StopTimeout
	if t == 0 {
		t = timeout.DefaultTimeout
	}
	return time.Duration(t)
}

// restartDelay is RestartSec: the app's restart-delay or systemd's 100ms.
func restartDelay(app *snap.AppInfo) time.Duration {
	if app.RestartDelay != 0 {
		return time.Duration(app.RestartDelay)
	}
	return 100 * time.Millisecond
}

// killSignal is KillSignal= from stop-mode (SIGTERM by default).
func killSignal(app *snap.AppInfo) syscall.Signal {
	switch app.StopMode.KillSignal() {
	case "SIGHUP":
		return syscall.SIGHUP
	case "SIGUSR1":
		return syscall.SIGUSR1
	case "SIGUSR2":
		return syscall.SIGUSR2
	case "SIGINT":
		return syscall.SIGINT
	}
	return syscall.SIGTERM
}

// cleanExit is systemd's notion of a clean exit: status 0, or one of
// SIGHUP, SIGINT, SIGTERM, SIGPIPE.
func cleanExit(ws syscall.WaitStatus) bool {
	if ws.Exited() {
		return ws.ExitStatus() == 0
	}
	if ws.Signaled() {
		switch ws.Signal() {
		case syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE:
			return true
		}
	}
	return false
}

// shouldRestart applies Restart= (snapd's restart-condition, on-failure by
// default) to how the main process ended.
func shouldRestart(cond snap.RestartCondition, ws syscall.WaitStatus) bool {
	clean := cleanExit(ws)
	switch cond {
	case snap.RestartNever:
		return false
	case snap.RestartAlways:
		return true
	case snap.RestartOnSuccess:
		return clean
	case snap.RestartOnAbnormal, snap.RestartOnAbort:
		return ws.Signaled() && !clean
	case snap.RestartOnWatchdog:
		return false
	default: // "" and on-failure
		return !clean
	}
}

func describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return fmt.Sprintf("code=killed, status=%d/%s", int(ws.Signal()), strings.ToUpper(strings.TrimPrefix(sigName(ws.Signal()), "SIG")))
	}
	return fmt.Sprintf("code=exited, status=%d", ws.ExitStatus())
}

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "TERM"
	case syscall.SIGKILL:
		return "KILL"
	case syscall.SIGINT:
		return "INT"
	case syscall.SIGHUP:
		return "HUP"
	case syscall.SIGSEGV:
		return "SEGV"
	case syscall.SIGABRT:
		return "ABRT"
	case syscall.SIGPIPE:
		return "PIPE"
	}
	return s.String()
}

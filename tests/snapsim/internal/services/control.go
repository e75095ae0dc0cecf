package services

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/runner"
)

var sysEnv = runner.SystemEnv

// SuperviseVerb is the hidden snapsim verb that runs a supervisor.
const SuperviseVerb = "__supervise"

// Manager starts, stops and queries the services of one root.
type Manager struct {
	Root layout.Root
	// Self is the snapsim executable, re-executed as the supervisor.
	Self string
}

// Status returns the runtime status of a service.
func (m *Manager) Status(snapName, app string) *Runtime {
	rt, err := readRuntime(m.Root.ServiceStatusFile(snapName, app))
	if err != nil {
		return &Runtime{State: StateInactive}
	}
	return rt
}

// Active is systemctl is-active.
func (m *Manager) Active(snapName, app string) bool {
	return m.Status(snapName, app).Active()
}

// startTimeout is how long Start waits for the supervisor to report: the
// app's start-timeout, or systemd's 90s (no limit for oneshot services).
func startTimeout(app *snap.AppInfo) time.Duration {
	if app.StartTimeout != 0 {
		return time.Duration(app.StartTimeout) + 5*time.Second
	}
	if app.Daemon == "oneshot" {
		return 0
	}
	return 90 * time.Second
}

// Start starts a service unless it is already running.
func (m *Manager) Start(snapName string, app *snap.AppInfo) error {
	rt := m.Status(snapName, app.Name)
	if rt.supervised() {
		if rt.State == StateActive || rt.State == StateActivating {
			return nil
		}
		// deactivating: let it finish first
		if err := m.Stop(snapName, app); err != nil {
			return err
		}
	}
	if err := m.Root.EnsureStateDirs(); err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	logf, err := os.OpenFile(m.Root.SupervisorLog(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0600)
	if err != nil {
		w.Close()
		return err
	}
	cmd := exec.Command(m.Self, SuperviseVerb, "--root", m.Root.Dir, snapName+"."+app.Name)
	cmd.Env = os.Environ()
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	err = cmd.Start()
	w.Close()
	logf.Close()
	if err != nil {
		return fmt.Errorf("cannot start supervisor for %s.%s: %v", snapName, app.Name, err)
	}
	go cmd.Wait()

	msgc := make(chan string, 1)
	go func() {
		data, _ := io.ReadAll(r)
		msgc <- string(data)
	}()
	var deadline <-chan time.Time
	if t := startTimeout(app); t > 0 {
		deadline = time.After(t)
	}
	select {
	case msg := <-msgc:
		switch {
		case msg == "ok":
			return nil
		case strings.HasPrefix(msg, "error: "):
			return fmt.Errorf("%s", strings.TrimPrefix(msg, "error: "))
		default:
			return fmt.Errorf("supervisor of %s.%s ended without reporting (see %s)", snapName, app.Name, m.Root.SupervisorLog())
		}
	case <-deadline:
		return fmt.Errorf("Job for snap.%s.%s.service failed because a timeout was exceeded.", snapName, app.Name)
	}
}

// Stop stops a service (a no-op when it is not running) and waits for it.
func (m *Manager) Stop(snapName string, app *snap.AppInfo) error {
	path := m.Root.ServiceStatusFile(snapName, app.Name)
	rt := m.Status(snapName, app.Name)
	if rt.supervised() {
		syscall.Kill(rt.SupervisorPID, syscall.SIGTERM)
		// stop-command, signal, stop-timeout, SIGKILL, post-stop-command
		limit := 2*StopTimeout(app) + 15*time.Second
		if !waitGone(rt.SupervisorPID, rt.SupervisorStart, limit) {
			syscall.Kill(rt.SupervisorPID, syscall.SIGKILL)
			waitGone(rt.SupervisorPID, rt.SupervisorStart, 5*time.Second)
		}
	}
	// whatever the supervisor left behind (it may have been killed)
	if rt.MainPID > 0 && alive(rt.MainPID, 0) {
		if pgid, err := syscall.Getpgid(rt.MainPID); err == nil && pgid == rt.MainPID {
			syscall.Kill(-rt.MainPID, syscall.SIGKILL)
		}
	}
	after := m.Status(snapName, app.Name)
	if after.State != StateInactive && after.State != StateFailed {
		after.State = StateInactive
		after.MainPID = 0
		return writeRuntime(path, after)
	}
	return nil
}

func waitGone(pid int, start uint64, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for alive(pid, start) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// Forget removes a service's runtime status (after removal of the snap).
func (m *Manager) Forget(snapName, app string) {
	os.Remove(m.Root.ServiceStatusFile(snapName, app))
}

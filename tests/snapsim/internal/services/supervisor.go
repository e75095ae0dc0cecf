package services

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
)

// start limits, systemd's defaults (StartLimitIntervalSec=10s, StartLimitBurst=5)
const (
	startLimitInterval = 10 * time.Second
	startLimitBurst    = 5
)

type supervisor struct {
	target     *Target
	statusPath string
	rt         Runtime
	env        []string
	log        *os.File
	devnull    *os.File
	sigs       chan os.Signal
	chld       chan os.Signal
	exited     map[int]syscall.WaitStatus
	ready      *os.File
}

// Supervise runs service snapApp ("snap.app") of root until it is stopped
// (SIGTERM) or ends for good. ready, when not nil, receives "ok" or
// "error: ..." once the start job is complete, and is then closed.
func Supervise(root layout.Root, snapApp string, ready *os.File) error {
	if ready != nil {
		syscall.CloseOnExec(int(ready.Fd()))
	}
	s := &supervisor{
		ready:  ready,
		exited: make(map[int]syscall.WaitStatus),
		sigs:   make(chan os.Signal, 4),
		chld:   make(chan os.Signal, 64),
	}
	signal.Notify(s.sigs, syscall.SIGTERM, syscall.SIGINT)
	signal.Notify(s.chld, syscall.SIGCHLD)
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)

	snapName, appName := snap.SplitSnapApp(snapApp)
	s.statusPath = root.ServiceStatusFile(snapName, appName)
	s.rt = Runtime{SupervisorPID: os.Getpid(), SupervisorStart: procStartTime(os.Getpid()), State: StateActivating}
	s.write()

	t, err := LoadTarget(root, snapName, appName)
	if err != nil {
		return s.fail(err)
	}
	s.target = t
	if err := t.Ctx.EnsureUserDirs(); err != nil {
		return s.fail(err)
	}
	s.env = t.Ctx.DaemonEnv(t.App, sysEnv(), t.Cookie).ForExec()
	s.log, err = os.OpenFile(root.ServiceLog(snapName, appName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0600)
	if err != nil {
		return s.fail(err)
	}
	defer s.log.Close()
	s.devnull, err = os.Open(os.DevNull)
	if err != nil {
		return s.fail(err)
	}
	defer s.devnull.Close()
	// adopt orphaned descendants so that they are reaped and the process
	// group empties once they exit
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, 36 /* PR_SET_CHILD_SUBREAPER */, 1, 0)

	return s.run()
}

func (s *supervisor) logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s snap.%s.%s[%d]: %s\n", time.Now().UTC().Format(time.RFC3339),
		s.target.Ctx.Info.SnapName(), s.target.App.Name, os.Getpid(), fmt.Sprintf(format, args...))
}

func (s *supervisor) write() {
	_ = writeRuntime(s.statusPath, &s.rt)
}

func (s *supervisor) notify(msg string) {
	if s.ready == nil {
		return
	}
	s.ready.WriteString(msg)
	s.ready.Close()
	s.ready = nil
}

func (s *supervisor) fail(err error) error {
	s.rt.State = StateFailed
	s.rt.Result = "resources"
	s.write()
	s.notify("error: " + err.Error())
	return err
}

// reap collects every exited child.
func (s *supervisor) reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		s.exited[pid] = ws
	}
}

func (s *supervisor) hasExited(pid int) func() bool {
	return func() bool { _, ok := s.exited[pid]; return ok }
}

// wait waits for cond, at most timeout (0: no limit). When interruptible,
// a stop signal ends the wait and signalled is true.
func (s *supervisor) wait(cond func() bool, timeout time.Duration, interruptible bool) (met, signalled bool) {
	var deadline <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		s.reap()
		if cond() {
			return true, false
		}
		select {
		case <-s.chld:
		case <-tick.C:
		case <-deadline:
			s.reap()
			return cond(), false
		case <-s.sigs:
			if interruptible {
				return false, true
			}
		}
	}
}

func (s *supervisor) spawn(argv []string, extraEnv ...string) (int, error) {
	env := append(append([]string(nil), s.env...), extraEnv...)
	p, err := os.StartProcess(argv[0], argv, &os.ProcAttr{
		Dir:   s.target.Ctx.Root.DataDir(s.target.Ctx.Info.SnapName(), s.target.Ctx.Rev()),
		Env:   env,
		Files: []*os.File{s.devnull, s.log, s.log},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		return 0, err
	}
	pid := p.Pid
	p.Release()
	return pid, nil
}

// runAux runs the stop or post-stop command, waiting at most timeout.
func (s *supervisor) runAux(which string, timeout time.Duration) {
	argv, err := s.target.Ctx.AppCommand(s.target.App, which, envMap(s.env), nil)
	if err != nil {
		s.logf("cannot run %s command: %v", which, err)
		return
	}
	pid, err := s.spawn(argv, "MAINPID="+strconv.Itoa(s.rt.MainPID))
	if err != nil {
		s.logf("cannot run %s command: %v", which, err)
		return
	}
	if met, _ := s.wait(s.hasExited(pid), timeout, false); !met {
		s.logf("%s command timed out, killing", which)
		syscall.Kill(-pid, syscall.SIGKILL)
		s.wait(s.hasExited(pid), 5*time.Second, false)
	}
}

// terminate stops the main process (pgid == pid) the way systemd stops a unit.
func (s *supervisor) terminate(pid int) {
	app := s.target.App
	s.rt.State = StateDeactivating
	s.write()
	deadline := time.Now().Add(StopTimeout(app))
	if app.StopCommand != "" && !s.hasExited(pid)() {
		s.runAux("stop", StopTimeout(app))
	}
	killAll := app.StopMode.KillAll()
	gone := func() bool {
		s.reap()
		if !s.hasExited(pid)() {
			return false
		}
		return !killAll || !groupAlive(pid)
	}
	sig := killSignal(app)
	if killAll {
		syscall.Kill(-pid, sig)
	} else {
		syscall.Kill(pid, sig)
	}
	if killAll {
		syscall.Kill(-pid, syscall.SIGCONT)
	}
	if met, _ := s.wait(gone, time.Until(deadline), false); !met {
		s.logf("State 'stop-sigterm' timed out. Killing.")
		if killAll {
			syscall.Kill(-pid, syscall.SIGKILL)
		} else {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		s.wait(gone, 5*time.Second, false)
	}
	if app.PostStopCommand != "" {
		s.runAux("post-stop", StopTimeout(app))
	}
}

// cleanupGroup kills what is left of a main process's group after it exited.
func (s *supervisor) cleanupGroup(pid int) {
	if !s.target.App.StopMode.KillAll() || !groupAlive(pid) {
		return
	}
	syscall.Kill(-pid, killSignal(s.target.App))
	if met, _ := s.wait(func() bool { return !groupAlive(pid) }, StopTimeout(s.target.App), false); !met {
		syscall.Kill(-pid, syscall.SIGKILL)
		s.wait(func() bool { return !groupAlive(pid) }, 5*time.Second, false)
	}
}

func (s *supervisor) stopped() error {
	s.rt.State = StateInactive
	s.rt.Result = "success"
	s.rt.MainPID = 0
	s.write()
	s.notify("error: start interrupted by a stop request")
	return nil
}

func (s *supervisor) run() error {
	app := s.target.App
	var starts []time.Time
	for {
		now := time.Now()
		recent := starts[:0]
		for _, t := range starts {
			if now.Sub(t) < startLimitInterval {
				recent = append(recent, t)
			}
		}
		starts = recent
		if len(starts) >= startLimitBurst {
			s.logf("Start request repeated too quickly.")
			s.rt.State = StateFailed
			s.rt.Result = "start-limit-hit"
			s.rt.MainPID = 0
			s.write()
			return nil
		}
		starts = append(starts, now)

		argv, err := s.target.Ctx.AppCommand(app, "", envMap(s.env), nil)
		if err != nil {
			return s.fail(err)
		}
		pid, err := s.spawn(argv)
		if err != nil {
			s.logf("Failed to execute %s: %v", argv[0], err)
			s.rt.State = StateFailed
			s.rt.Result = "exit-code"
			s.rt.ExitStatus = 203
			s.rt.MainPID = 0
			s.write()
			s.notify(fmt.Sprintf("error: cannot start service %s.%s: %v", s.target.Ctx.Info.SnapName(), app.Name, err))
			return nil
		}
		s.rt.MainPID = pid

		switch app.Daemon {
		case "oneshot":
			s.write()
			met, sig := s.wait(s.hasExited(pid), time.Duration(app.StartTimeout), true)
			if sig || !met {
				s.terminate(pid)
				return s.stopped()
			}
			ws := s.exited[pid]
			s.cleanupGroup(pid)
			if !cleanExit(ws) {
				s.logf("Main process exited, %s", describe(ws))
				s.rt.State = StateFailed
				s.rt.Result = "exit-code"
				s.rt.ExitStatus = ws.ExitStatus()
				s.rt.MainPID = 0
				s.write()
				s.notify(fmt.Sprintf("error: Job for snap.%s.%s.service failed because the control process exited with error code.", s.target.Ctx.Info.SnapName(), app.Name))
				return nil
			}
			if app.StopCommand == "" {
				s.rt.State = StateInactive
				s.rt.Result = "success"
				s.rt.MainPID = 0
				s.write()
				s.notify("ok")
				return nil
			}
			// RemainAfterExit=yes
			s.rt.State = StateActive
			s.write()
			s.notify("ok")
			s.wait(func() bool { return false }, 0, true)
			s.runAux("stop", StopTimeout(app))
			if app.PostStopCommand != "" {
				s.runAux("post-stop", StopTimeout(app))
			}
			return s.stopped()
		case "forking":
			met, sig := s.wait(s.hasExited(pid), time.Duration(app.StartTimeout), true)
			if sig || !met {
				s.terminate(pid)
				return s.stopped()
			}
			if ws := s.exited[pid]; !cleanExit(ws) {
				s.logf("Control process exited, %s", describe(ws))
				s.rt.State = StateFailed
				s.rt.Result = "exit-code"
				s.rt.MainPID = 0
				s.write()
				s.notify(fmt.Sprintf("error: Job for snap.%s.%s.service failed because the control process exited with error code.", s.target.Ctx.Info.SnapName(), app.Name))
				return nil
			}
			s.rt.State = StateActive
			s.write()
			s.notify("ok")
			_, sig = s.wait(func() bool { return !groupAlive(pid) }, 0, true)
			if sig {
				s.terminate(pid)
				return s.stopped()
			}
		default: // simple, notify, dbus
			s.rt.State = StateActive
			s.write()
			s.notify("ok")
			_, sig := s.wait(s.hasExited(pid), 0, true)
			if sig {
				s.terminate(pid)
				return s.stopped()
			}
		}

		ws := s.exited[pid]
		s.logf("Main process exited, %s", describe(ws))
		s.cleanupGroup(pid)
		if shouldRestart(app.RestartCond, ws) {
			s.rt.State = StateActivating
			s.rt.Result = "exit-code"
			s.rt.ExitStatus = ws.ExitStatus()
			s.rt.Restarts++
			s.rt.MainPID = 0
			s.write()
			if _, sig := s.wait(func() bool { return false }, restartDelay(app), true); sig {
				return s.stopped()
			}
			s.logf("Scheduled restart job, restart counter is at %d.", s.rt.Restarts)
			continue
		}
		if cleanExit(ws) {
			s.rt.State = StateInactive
			s.rt.Result = "success"
		} else {
			s.rt.State = StateFailed
			s.rt.Result = "exit-code"
			s.rt.ExitStatus = ws.ExitStatus()
		}
		s.rt.MainPID = 0
		s.write()
		return nil
	}
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				m[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	return m
}

package runner

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/snapcore/snapd/osutil"
	"github.com/snapcore/snapd/strutil"
)

// DefaultHookTimeout is snapd's hookstate default.
const DefaultHookTimeout = 10 * time.Minute

// ConfigureHookTimeout is configstate.ConfigureHookTimeout: 5 minutes unless
// SNAPD_CONFIGURE_HOOK_TIMEOUT (a Go duration) says otherwise.
func ConfigureHookTimeout() time.Duration {
	timeout := 5 * time.Minute
	if s := getenv("SNAPD_CONFIGURE_HOOK_TIMEOUT"); s != "" {
		if to, err := time.ParseDuration(s); err == nil {
			timeout = to
		}
	}
	return timeout
}

const cmdWaitTimeout = 5 * time.Second

// RunHook runs argv the way osutil.RunAndWait does for snapd's hooks: in its
// own process group, cwd "/", stdin from /dev/null, stdout and stderr into
// one buffer keeping the last 100 lines / 10 KiB, the whole group killed
// after timeout.
func RunHook(argv []string, env osutil.Environment, timeout time.Duration) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("internal error: RunHook needs non-empty argv")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = env.ForExec()
	cmd.Dir = "/"
	buffer := strutil.NewLimitedBuffer(100, 10*1024)
	cmd.Stdout = buffer
	cmd.Stderr = buffer
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return buffer.Bytes(), err
	case <-time.After(timeout):
	}
	timeoutErr := fmt.Errorf("exceeded maximum runtime of %s", timeout)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		return nil, fmt.Errorf("cannot abort: %s", err)
	}
	select {
	case <-time.After(cmdWaitTimeout):
		return nil, fmt.Errorf("%v, but did not stop", timeoutErr)
	case <-done:
	}
	fmt.Fprintf(buffer, "\n<%s>", timeoutErr)
	return buffer.Bytes(), timeoutErr
}

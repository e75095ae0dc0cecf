package harness

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a daemon this harness started; it is stopped by its PID.
type Proc struct {
	Name  string
	PID   int
	Start time.Time
	cmd   *exec.Cmd
	done  chan struct{}
	log   *os.File
}

// procs holds every Proc still running, so that an interrupted run stops
// them all.
var procs = struct {
	sync.Mutex
	m map[int]*Proc
}{m: map[int]*Proc{}}

// StartProc starts argv with env (nothing inherited), output appended to logPath.
func StartProc(name string, argv, env []string, logPath string) (*Proc, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{}), log: log}
	p.Start = time.Now()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("cannot start %s: %v", name, err)
	}
	p.PID = cmd.Process.Pid
	procs.Lock()
	procs.m[p.PID] = p
	procs.Unlock()
	go func() {
		cmd.Wait()
		log.Close()
		close(p.done)
		procs.Lock()
		delete(procs.m, p.PID)
		procs.Unlock()
	}()
	return p, nil
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process (by PID), waits, and kills it after timeout.
func (p *Proc) Stop(timeout time.Duration) error {
	if p.Exited() {
		return nil
	}
	_ = syscall.Kill(p.PID, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s (pid %d) did not stop within %s: killed", p.Name, p.PID, timeout)
	}
}

// StopAll stops every process still running.
func StopAll() {
	procs.Lock()
	var all []*Proc
	for _, p := range procs.m {
		all = append(all, p)
	}
	procs.Unlock()
	for _, p := range all {
		_ = p.Stop(20 * time.Second)
	}
}

// WaitReady polls GET url+"/health" on a new connection every interval
// (full handshake each time when tlsCfg is set) until etcd answers
// {"health":"true"}: /health is a linearizable read through raft. It
// returns when that first succeeded.
func WaitReady(ctx context.Context, url string, tlsCfg *tls.Config, interval, timeout time.Duration, exited func() bool) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		tr := &http.Transport{TLSClientConfig: tlsCfg, DisableKeepAlives: true}
		cl := &http.Client{Transport: tr, Timeout: time.Second}
		resp, err := cl.Get(url + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), `"health":"true"`) {
				return time.Now(), nil
			}
			err = fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		tr.CloseIdleConnections()
		last = err
		if exited != nil && exited() {
			return time.Time{}, fmt.Errorf("the process exited before it was ready (last: %v)", last)
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("not ready within %s: %v", timeout, last)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// RSS reads VmRSS and VmHWM of pid, in KiB.
func RSS(pid int) (rss, hwm int64, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(fields[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(fields[1], 10, 64)
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return rss, hwm, sc.Err()
}

// FreePorts returns n distinct TCP ports free on 127.0.0.1 now.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitPortFree waits until nothing listens on 127.0.0.1:port, so that the
// next daemon does not fail to bind after the previous one stopped.
func waitPortFree(port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("port %d still busy: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const daemonYaml = `name: demo
version: '1.0'
summary: s
description: d
apps:
  daemon:
    command: bin/daemon
    daemon: simple
    install-mode: disable
  stubborn:
    command: bin/stubborn
    daemon: simple
    stop-timeout: 1s
    install-mode: disable
  crasher:
    command: bin/crasher
    daemon: simple
    restart-delay: 50ms
    install-mode: disable
  once:
    command: bin/crasher
    daemon: simple
    restart-condition: never
    install-mode: disable
  tool:
    command: bin/tool
`

// the daemon records its pid and how it was stopped
const daemonScript = `#!/bin/sh
echo $$ > "$SNAP_DATA/daemon.pid"
echo "started rev=$SNAP_REVISION cwd=$(pwd)"
trap 'echo "got SIGTERM"; echo term > "$SNAP_DATA/daemon.stopped"; exit 0' TERM
while :; do sleep 0.05; done
`

const stubbornScript = `#!/bin/sh
echo $$ > "$SNAP_DATA/stubborn.pid"
trap 'echo "ignoring SIGTERM"' TERM
while :; do sleep 0.05; done
`

const crasherScript = `#!/bin/sh
echo "crashing"
exit 3
`

// configure hook: asks for a restart, records what snapctl services says
// while the hook runs, and fails on demand
const queueingHook = `#!/bin/sh
snapctl restart demo.daemon
snapctl services demo.daemon > "$SNAP_COMMON/services-in-hook"
[ "$(snapctl get fail)" = yes ] && { echo "failing as asked" >&2; exit 1; }
exit 0
`

func daemonSnap(t *testing.T) string {
	return writeSnap(t, daemonYaml, map[string]string{
		"bin/daemon":           daemonScript,
		"bin/stubborn":         stubbornScript,
		"bin/crasher":          crasherScript,
		"bin/tool":             "#!/bin/sh\nexit 0\n",
		"meta/hooks/configure": queueingHook,
	})
}

func pidAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	var pid int
	eventually(t, 5*time.Second, path, func() bool {
		data, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil
	})
	return pid
}

func TestQueuedServiceActions(t *testing.T) {
	root := newRoot(t)
	mustSnapsim(t, root, "install", daemonSnap(t))
	data := filepath.Join(root, "var/snap/demo/x1")

	// the install-time configure hook queued a restart of demo.daemon: as
	// an explicitly named service it is started even though disabled
	pid := readPid(t, filepath.Join(data, "daemon.pid"))
	if got := readFile(t, filepath.Join(root, "var/snap/demo/common/services-in-hook")); !strings.Contains(got, "demo.daemon  disabled  inactive") {
		t.Errorf("services during the install hook: %q", got)
	}
	mustSnapsim(t, root, "stop", "demo.daemon")
	if pidAlive(pid) {
		t.Fatal("daemon survived stop")
	}
	os.Remove(filepath.Join(data, "daemon.pid"))

	// hook failure: the queued restart never runs
	r := snapsim(t, root, "set", "fail=yes")
	if r.code != 1 || !strings.Contains(r.stderr, "failing as asked") {
		t.Fatalf("failing set: %d %q", r.code, r.stderr)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(data, "daemon.pid")); err == nil {
		t.Fatal("queued restart ran although the hook failed")
	}
	if got := mustSnapsim(t, root, "services", "demo.daemon"); !strings.Contains(got, "demo.daemon  disabled  inactive") {
		t.Errorf("services: %q", got)
	}

	// hook success: it runs after the hook (the hook still saw it inactive)
	mustSnapsim(t, root, "set", "fail=no")
	if got := readFile(t, filepath.Join(root, "var/snap/demo/common/services-in-hook")); !strings.Contains(got, "demo.daemon  disabled  inactive") {
		t.Errorf("services during the hook: %q", got)
	}
	pid = readPid(t, filepath.Join(data, "daemon.pid"))
	if !pidAlive(pid) {
		t.Fatal("daemon not running after set")
	}
	if got := mustSnapsim(t, root, "services", "demo.daemon"); got != "Service      Startup   Current  Notes\ndemo.daemon  disabled  active   -\n" {
		t.Errorf("services: %q", got)
	}
}

func TestDaemonStartStop(t *testing.T) {
	root := newRoot(t)
	mustSnapsim(t, root, "install", daemonSnap(t))
	mustSnapsim(t, root, "stop", "demo") // what the install hook started
	data := filepath.Join(root, "var/snap/demo/x1")
	os.Remove(filepath.Join(data, "daemon.pid"))

	if out := mustSnapsim(t, root, "start", "--enable", "demo.daemon"); out != "Started.\n" {
		t.Errorf("start output %q", out)
	}
	pid := readPid(t, filepath.Join(data, "daemon.pid"))
	// a new session and process group of its own
	if pgid, _ := syscall.Getpgid(pid); pgid != pid {
		t.Errorf("daemon pgid %d, want %d", pgid, pid)
	}
	if sid, _, _ := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0); int(sid) == os.Getpid() || int(sid) == mySid() {
		t.Errorf("daemon shares our session")
	}
	if out := mustSnapsim(t, root, "start", "demo.daemon"); out != "Started.\n" {
		t.Errorf("second start %q", out)
	}
	if p2 := readPid(t, filepath.Join(data, "daemon.pid")); p2 != pid {
		t.Errorf("start of an active service restarted it")
	}
	eventually(t, 5*time.Second, "daemon log", func() bool {
		return strings.Contains(snapsim(t, root, "logs", "demo.daemon").stdout, "started rev=x1 cwd="+data)
	})

	if out := mustSnapsim(t, root, "restart", "demo.daemon"); out != "Restarted.\n" {
		t.Errorf("restart output %q", out)
	}
	pid2 := readPid(t, filepath.Join(data, "daemon.pid"))
	eventually(t, 5*time.Second, "new daemon pid", func() bool {
		pid2 = readPid(t, filepath.Join(data, "daemon.pid"))
		return pid2 != pid
	})
	if pidAlive(pid) {
		t.Errorf("old daemon still running after restart")
	}

	if out := mustSnapsim(t, root, "stop", "--disable", "demo.daemon"); out != "Stopped.\n" {
		t.Errorf("stop output %q", out)
	}
	if pidAlive(pid2) {
		t.Fatal("daemon alive after stop")
	}
	if got := readFile(t, filepath.Join(data, "daemon.stopped")); got != "term\n" {
		t.Errorf("daemon not stopped with SIGTERM: %q", got)
	}
	want := "Service        Startup   Current   Notes\n" +
		"demo.crasher   disabled  inactive  -\n" +
		"demo.daemon    disabled  inactive  -\n" +
		"demo.once      disabled  inactive  -\n" +
		"demo.stubborn  disabled  inactive  -\n"
	if got := mustSnapsim(t, root, "services"); got != want {
		t.Errorf("services:\n%s\nwant:\n%s", got, want)
	}
	if got := snapsim(t, root, "logs", "-n", "1", "demo.daemon").stdout; got != "got SIGTERM\n" {
		t.Errorf("logs -n 1: %q", got)
	}

	// a daemon that ignores SIGTERM is killed after its stop-timeout (1s)
	mustSnapsim(t, root, "start", "demo.stubborn")
	spid := readPid(t, filepath.Join(data, "stubborn.pid"))
	start := time.Now()
	mustSnapsim(t, root, "stop", "demo.stubborn")
	if d := time.Since(start); d < 900*time.Millisecond || d > 8*time.Second {
		t.Errorf("stop of a SIGTERM-ignoring daemon took %s, want about the 1s stop-timeout", d)
	}
	if pidAlive(spid) {
		t.Errorf("stubborn daemon survived")
	}

	// errors, as snap prints them
	for _, tc := range []struct{ args, err string }{
		{"start demo.nope", "error: snap \"demo\" has no service \"nope\"\n"},
		{"start demo.tool", "error: snap \"demo\" has no service \"tool\"\n"},
		{"start other.daemon", "error: snap \"other\" not found\n"},
		{"logs -n x demo.daemon", "error: invalid argument for flag ‘-n’: expected a non-negative integer argument, or “all”.\n"},
	} {
		r := snapsim(t, root, strings.Fields(tc.args)...)
		if r.code != 1 || r.stderr != tc.err {
			t.Errorf("%s: %d %q, want %q", tc.args, r.code, r.stderr, tc.err)
		}
	}
}

func mySid() int {
	sid, _, _ := syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0)
	return int(sid)
}

func TestRestartCondition(t *testing.T) {
	root := newRoot(t)
	mustSnapsim(t, root, "install", daemonSnap(t))
	mustSnapsim(t, root, "stop", "demo")

	// on-failure (snapd's default): restarted until systemd's start limit (5 in 10s)
	mustSnapsim(t, root, "start", "demo.crasher")
	eventually(t, 8*time.Second, "crasher to hit the start limit", func() bool {
		return strings.Count(snapsim(t, root, "logs", "-n", "all", "demo.crasher").stdout, "crashing") == 5 &&
			strings.Contains(readFile(t, filepath.Join(root, "var/lib/snapsim/run/snap.demo.crasher.json")), "start-limit-hit")
	})
	// never: started once
	mustSnapsim(t, root, "start", "demo.once")
	time.Sleep(500 * time.Millisecond)
	if n := strings.Count(snapsim(t, root, "logs", "-n", "all", "demo.once").stdout, "crashing"); n != 1 {
		t.Errorf("restart-condition never: started %d times", n)
	}
	if got := mustSnapsim(t, root, "services", "demo.once"); !strings.Contains(got, "inactive") {
		t.Errorf("services: %q", got)
	}
}

func TestInstallModeAndHealth(t *testing.T) {
	root := newRoot(t)
	yaml := `name: demo
version: '2'
apps:
  on:
    command: bin/daemon
    daemon: simple
  off:
    command: bin/daemon
    daemon: simple
    install-mode: disable
`
	hook := "#!/bin/sh\nsnapctl set-health --code=no-config blocked \"waiting for configuration\"\n"
	dir := writeSnap(t, yaml, map[string]string{"bin/daemon": "#!/bin/sh\nexec sleep 60\n", "meta/hooks/install": hook})
	mustSnapsim(t, root, "install", dir)
	want := "Service   Startup   Current   Notes\ndemo.off  disabled  inactive  -\ndemo.on   enabled   active    -\n"
	if got := mustSnapsim(t, root, "services"); got != want {
		t.Errorf("services after install:\n%q\nwant\n%q", got, want)
	}
	got := mustSnapsim(t, root, "health")
	for _, s := range []string{"status:   blocked", "message:  waiting for configuration", "code:     no-config", "revision: x1"} {
		if !strings.Contains(got, s) {
			t.Errorf("health output %q lacks %q", got, s)
		}
	}
	if got := mustSnapsim(t, root, "list"); got != "Name  Version  Rev  Tracking  Publisher  Notes\ndemo  2        x1   -         -          -\n" {
		t.Errorf("list: %q", got)
	}
}

package runner

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/snapcore/snapd/osutil"
	// snap.yaml parsing needs the interfaces
	_ "github.com/snapcore/snapd/interfaces/builtin"
	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
)

const yaml = `name: demo
version: '1.2'
environment:
  PATH: $SNAP/bin:$PATH
  GLOBAL: $SNAP_DATA/g
apps:
  tool:
    command: bin/tool --data $SNAP_DATA $UNSET_VAR --x
    command-chain: [bin/chain]
    environment:
      LOCAL: $GLOBAL/l
hooks:
  configure:
    environment:
      HOOKVAR: $SNAP_COMMON
`

func testContext(t *testing.T, uid int) *Context {
	t.Helper()
	info, err := snap.InfoFromSnapYaml([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	info.Revision = snap.R(-3)
	return &Context{Root: layout.Root{Dir: "/r"}, Info: info, UID: uid, EUID: uid}
}

func TestSnapEnv(t *testing.T) {
	tests := []struct {
		uid  int
		want map[string]string
	}{{
		uid: 0,
		want: map[string]string{
			"SNAP":               "/r/snap/demo/x3",
			"SNAP_COMMON":        "/r/var/snap/demo/common",
			"SNAP_DATA":          "/r/var/snap/demo/x3",
			"SNAP_NAME":          "demo",
			"SNAP_INSTANCE_NAME": "demo",
			"SNAP_INSTANCE_KEY":  "",
			"SNAP_VERSION":       "1.2",
			"SNAP_REVISION":      "x3",
			"SNAP_LIBRARY_PATH":  LibraryPath,
			"SNAP_REEXEC":        "",
			"SNAP_UID":           "0",
			"SNAP_EUID":          "0",
			"SNAP_USER_DATA":     "/r/root/snap/demo/x3",
			"SNAP_USER_COMMON":   "/r/root/snap/demo/common",
			"HOME":               "/r/root/snap/demo/x3",
			"SNAP_REAL_HOME":     "/r/root",
			"XDG_RUNTIME_DIR":    "/r/run/user/0/snap.demo",
		},
	}, {
		uid: 4242,
		want: map[string]string{
			"SNAP_UID":        "4242",
			"SNAP_REAL_HOME":  "/r/home/4242",
			"HOME":            "/r/home/4242/snap/demo/x3",
			"XDG_RUNTIME_DIR": "/r/run/user/4242/snap.demo",
		},
	}}
	for _, tc := range tests {
		env := testContext(t, tc.uid).SnapEnv()
		for k, v := range tc.want {
			got, ok := env[k]
			if !ok || got != v {
				t.Errorf("uid %d: %s = %q (set: %v), want %q", tc.uid, k, got, ok, v)
			}
		}
		if env["SNAP_ARCH"] == "" {
			t.Errorf("SNAP_ARCH not set")
		}
	}
}

func TestAppEnvAndCommand(t *testing.T) {
	c := testContext(t, 0)
	app := c.Info.Apps["tool"]
	base := osutil.Environment{"PATH": "/caller/bin", "KEEP": "1", "SNAPSIM_ROOT": "/other", "TMPDIR": "/var/tmp"}
	env := c.AppEnv(app, base, "cookie")

	want := map[string]string{
		"PATH":         "/r/snap/demo/x3/bin:/r/usr/bin:" + CorePath,
		"GLOBAL":       "/r/var/snap/demo/x3/g",
		"LOCAL":        "/r/var/snap/demo/x3/g/l",
		"KEEP":         "1",
		"TMPDIR":       "/tmp",
		"SNAP_COOKIE":  "cookie",
		"SNAP_CONTEXT": "cookie",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["SNAPSIM_ROOT"]; ok {
		t.Errorf("SNAPSIM_ROOT leaked into the app environment")
	}

	argv, err := c.AppCommand(app, "", env, []string{"user", "args"})
	if err != nil {
		t.Fatal(err)
	}
	wantArgv := []string{"/r/snap/demo/x3/bin/chain", "/r/snap/demo/x3/bin/tool", "--data", "/r/var/snap/demo/x3", "--x", "user", "args"}
	if !reflect.DeepEqual(argv, wantArgv) {
		t.Errorf("argv = %q, want %q", argv, wantArgv)
	}
	if _, err := c.AppCommand(app, "stop", env, nil); err == nil || !strings.Contains(err.Error(), `no "stop" command found for "tool"`) {
		t.Errorf("stop command: %v", err)
	}
}

func TestHookEnv(t *testing.T) {
	c := testContext(t, 0)
	hook := c.Info.Hooks["configure"]
	env := c.HookEnv(hook, osutil.Environment{"PATH": SystemdPath}, "hook-cookie")
	if env["SNAP_COOKIE"] != "hook-cookie" || env["SNAP_CONTEXT"] != "hook-cookie" {
		t.Errorf("hook cookie: %q %q", env["SNAP_COOKIE"], env["SNAP_CONTEXT"])
	}
	if env["HOOKVAR"] != "/r/var/snap/demo/common" {
		t.Errorf("HOOKVAR = %q", env["HOOKVAR"])
	}
	if got := c.HookCommand(hook); !reflect.DeepEqual(got, []string{"/r/snap/demo/x3/meta/hooks/configure"}) {
		t.Errorf("hook command %q", got)
	}
}

func TestRunHook(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hook")
	tests := []struct {
		name    string
		body    string
		timeout time.Duration
		out     string
		err     string
	}{
		{"success", "echo out; echo err >&2; pwd", time.Minute, "out\nerr\n/\n", ""},
		{"failure", "echo bad >&2; exit 3", time.Minute, "bad\n", "exit status 3"},
		{"stdin is empty", "cat; echo done", time.Minute, "done\n", ""},
		{"timeout kills the group", "sleep 30 & sleep 30; echo never", 300 * time.Millisecond, "\n<exceeded maximum runtime of 300ms>", "exceeded maximum runtime of 300ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(script, []byte("#!/bin/sh\n"+tc.body+"\n"), 0755); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			out, err := RunHook([]string{script}, osutil.Environment{"PATH": SystemdPath}, tc.timeout)
			if string(out) != tc.out {
				t.Errorf("output %q, want %q", out, tc.out)
			}
			if tc.err == "" && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
		})
	}
}

func TestConfigureHookTimeout(t *testing.T) {
	t.Setenv("SNAPD_CONFIGURE_HOOK_TIMEOUT", "")
	if got := ConfigureHookTimeout(); got != 5*time.Minute {
		t.Errorf("default %s", got)
	}
	t.Setenv("SNAPD_CONFIGURE_HOOK_TIMEOUT", "2s")
	if got := ConfigureHookTimeout(); got != 2*time.Second {
		t.Errorf("override %s", got)
	}
}

// TestSystemAndDaemonEnv: hooks and daemons start from systemd's environment
// (PATH, LANG=C.UTF-8); daemons also get PWD=$SNAP_DATA (FINDINGS.md).
func TestSystemAndDaemonEnv(t *testing.T) {
	t.Setenv(PassEnvVar, "")
	c := testContext(t, 0)
	app := c.Info.Apps["tool"]
	tests := []struct {
		name string
		env  osutil.Environment
		want map[string]string
	}{
		{"system", SystemEnv(), map[string]string{"PATH": SystemdPath, "LANG": "C.UTF-8"}},
		{"daemon", c.DaemonEnv(app, SystemEnv(), "cookie"), map[string]string{
			"LANG":         "C.UTF-8",
			"PWD":          "/r/var/snap/demo/x3",
			"PATH":         "/r/snap/demo/x3/bin:/r/usr/bin:" + CorePath,
			"SNAP_COOKIE":  "cookie",
			"SNAP_CONTEXT": "cookie",
		}},
		{"hook", c.HookEnv(c.Info.Hooks["configure"], SystemEnv(), "hc"), map[string]string{
			"LANG": "C.UTF-8",
			"PATH": "/r/snap/demo/x3/bin:/r/usr/bin:" + CorePath,
		}},
	}
	for _, tc := range tests {
		for k, v := range tc.want {
			if got, ok := tc.env[k]; !ok || got != v {
				t.Errorf("%s: %s = %q (set: %v), want %q", tc.name, k, got, ok, v)
			}
		}
	}
	if _, ok := SystemEnv()["PWD"]; ok {
		t.Errorf("system environment has PWD")
	}
}

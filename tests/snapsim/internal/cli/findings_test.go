package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSnapdFindingsSetGet pins what tests/snapd/FINDINGS.md recorded from
// real snapd (2.57.6) for snap set/get: exit codes, messages, value typing
// and the environment the configure hook runs with.
func TestSnapdFindingsSetGet(t *testing.T) {
	root := newRoot(t)
	hook := "#!/bin/sh\nprintf '%s' \"${LANG-unset}\" > \"$SNAP_COMMON/hook-env\"\nexit 0\n"
	mustSnapsim(t, root, "install", writeSnap(t, configYaml, map[string]string{"meta/hooks/configure": hook}))

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		// usage errors are snap's parser's: exit 64
		{"set without a pair", []string{"set", "demo"}, 64, "", "error: the required argument `<conf value> (at least 1 argument)` was not provided\n"},
		{"set without anything", []string{"set"}, 64, "", "error: the required argument `<conf value> (at least 1 argument)` was not provided\n"},
		{"set of an unknown snap", []string{"set", "nosuch", "a=1"}, 1, "", "error: snap \"nosuch\" not found\n"},
		{"set without =", []string{"set", "demo", "a"}, 1, "", "error: invalid configuration: \"a\" (want key=value)\n"},
		{"set -t of text", []string{"set", "-t", "demo", "t1=abc"}, 1, "", "error: failed to parse JSON: invalid character 'a' looking for beginning of value\n"},
		{"set stores JSON or text", []string{"set", "demo", "a=1", "b=true", `c={"x":1}`, `e="1"`, "f=1.5", "h=[1,2]", "i=01", "j=1e3", "k= spaced ", "d=abc", "g=1"}, 0, "", ""},
		{"null unsets", []string{"set", "demo", "g=null"}, 0, "", ""},
		{"get -d", []string{"get", "-d", "demo"}, 0, "{\n\t\"a\": 1,\n\t\"b\": true,\n\t\"c\": {\n\t\t\"x\": 1\n\t},\n\t\"d\": \"abc\",\n\t\"e\": \"1\",\n\t\"f\": 1.5,\n\t\"h\": [\n\t\t1,\n\t\t2\n\t],\n\t\"i\": \"01\",\n\t\"j\": 1e3,\n\t\"k\": \" spaced \"\n}\n", ""},
		{"get -l", []string{"get", "-l", "demo"}, 0, "Key  Value\na    1\nb    true\nc    {...}\nd    abc\ne    1\nf    1.5\nh    [1 2]\ni    01\nj    1e3\nk     spaced \n", ""},
		{"get of a missing dotted key", []string{"get", "demo", "nosuch.key"}, 1, "", "error: snap \"demo\" has no \"nosuch\" configuration option\n"},
		{"unset of several, the only child", []string{"unset", "demo", "a", "c.x"}, 0, "", ""},
		{"parent left as {}", []string{"get", "-d", "demo", "c"}, 0, "{\n\t\"c\": {}\n}\n", ""},
	}
	for _, tc := range tests {
		r := snapsim(t, root, tc.args...)
		if r.code != tc.code || r.stdout != tc.stdout || r.stderr != tc.stderr {
			t.Errorf("%s: %q: exit %d stdout %q stderr %q; want exit %d stdout %q stderr %q",
				tc.name, tc.args, r.code, r.stdout, r.stderr, tc.code, tc.stdout, tc.stderr)
		}
	}

	// hooks run with systemd's LANG (snapd's own environment)
	if got := readFile(t, filepath.Join(root, "var/snap/demo/common/hook-env")); got != "C.UTF-8" {
		t.Errorf("hook LANG = %q, want C.UTF-8", got)
	}
}

// TestSnapdFindingsDaemonEnv: a daemon starts with systemd's LANG and
// PWD=$SNAP_DATA (read from the environment it was started with, which the
// shell does not rewrite).
func TestSnapdFindingsDaemonEnv(t *testing.T) {
	root := newRoot(t)
	yaml := configYaml + "apps:\n  d:\n    command: bin/d\n    daemon: simple\n"
	daemon := "#!/bin/sh\ntr '\\0' '\\n' < /proc/$$/environ > \"$SNAP_COMMON/env.tmp\"\nmv \"$SNAP_COMMON/env.tmp\" \"$SNAP_COMMON/env\"\nexec sleep 600\n"
	mustSnapsim(t, root, "install", writeSnap(t, yaml, map[string]string{"bin/d": daemon}))
	envFile := filepath.Join(root, "var/snap/demo/common/env")
	eventually(t, 10*time.Second, "the daemon's environment", func() bool {
		_, err := os.Stat(envFile)
		return err == nil
	})
	got := map[string]string{}
	for _, line := range strings.Split(readFile(t, envFile), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	tests := []struct{ name, want string }{
		{"LANG", "C.UTF-8"},
		{"PWD", filepath.Join(root, "var/snap/demo/x1")},
		{"SNAP_DATA", filepath.Join(root, "var/snap/demo/x1")},
	}
	for _, tc := range tests {
		if got[tc.name] != tc.want {
			t.Errorf("daemon %s = %q, want %q", tc.name, got[tc.name], tc.want)
		}
	}
	if got["SNAP_COOKIE"] == "" || got["SNAP_COOKIE"] != got["SNAP_CONTEXT"] {
		t.Errorf("daemon SNAP_COOKIE %q SNAP_CONTEXT %q", got["SNAP_COOKIE"], got["SNAP_CONTEXT"])
	}
}

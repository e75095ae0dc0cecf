package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const configYaml = `name: demo
version: '1.0'
summary: s
description: d
`

// configure hook used by the configuration tests: it records what it sees,
// sets a value of its own, and fails when asked to.
const configureHook = `#!/bin/sh
snapctl get -d a b missing > "$SNAP_COMMON/seen.json"
a=$(snapctl get a)
snapctl set "attempt=$a"
[ "$(snapctl get attempt)" = "$a" ] || { echo "own set not visible"; exit 9; }
if [ "$a" = fail ]; then
  echo "refusing a=fail" >&2
  exit 1
fi
if [ "$a" = fail2 ]; then
  echo "first line"
  echo "second line" >&2
  exit 2
fi
if [ "$a" = drop ]; then
  snapctl unset b
fi
exit 0
`

func TestSetGetTyping(t *testing.T) {
	root := newRoot(t)
	dir := writeSnap(t, configYaml, map[string]string{"meta/hooks/configure": "#!/bin/sh\nexit 0\n"})
	if out := mustSnapsim(t, root, "install", dir); out != "demo 1.0 installed\n" {
		t.Fatalf("install output %q", out)
	}
	tests := []struct {
		set  []string
		get  []string
		want string
	}{
		{[]string{"num=42"}, []string{"get", "num"}, "42\n"},
		{[]string{"num=42"}, []string{"get", "-t", "num"}, "42\n"},
		{[]string{"-s", "str=42"}, []string{"get", "-t", "str"}, "\"42\"\n"},
		{[]string{"str=hello"}, []string{"get", "str"}, "hello\n"},
		{[]string{"str=hello"}, []string{"get", "-t", "str"}, "\"hello\"\n"},
		{[]string{"flag=true"}, []string{"get", "-d", "flag"}, "{\n\t\"flag\": true\n}\n"},
		{[]string{`obj={"x":[1,"two"]}`}, []string{"get", "obj.x"}, "[\n\t1,\n\t\"two\"\n]\n"},
		{[]string{"demo", "tls.peer.cert=PEM"}, []string{"get", "demo", "tls.peer.cert"}, "PEM\n"},
		{[]string{"tls.peer.key=KEY"}, []string{"get", "-l", "tls.peer"}, "Key            Value\ntls.peer.cert  PEM\ntls.peer.key   KEY\n"},
		{[]string{"tls.peer!"}, []string{"get", "-d", "tls"}, "{\n\t\"tls\": {}\n}\n"},
	}
	for _, tc := range tests {
		mustSnapsim(t, root, append([]string{"set"}, tc.set...)...)
		if got := mustSnapsim(t, root, tc.get...); got != tc.want {
			t.Errorf("set %q; %q: got %q, want %q", tc.set, tc.get, got, tc.want)
		}
	}

	// errors, as snap prints them
	errs := []struct {
		args []string
		err  string
	}{
		{[]string{"get", "nope"}, "error: snap \"demo\" has no \"nope\" configuration option\n"},
		{[]string{"set", "-t", "k=[1"}, "error: failed to parse JSON: unexpected EOF\n"},
		{[]string{"set", "-t", "-s", "k=1"}, "error: cannot use -t and -s together\n"},
		{[]string{"set", "Bad=1"}, "error: cannot perform the following tasks:\n- Run configure hook of \"demo\" snap (invalid option name: \"Bad\")\n"},
		{[]string{"set", "other", "k=1"}, "error: snap \"other\" not found\n"},
		{[]string{"get", "-d", "-t", "k"}, "error: cannot use -d and -t together\n"},
	}
	for _, tc := range errs {
		r := snapsim(t, root, tc.args...)
		if r.code != 1 || r.stderr != tc.err {
			t.Errorf("%q: exit %d stderr %q, want %q", tc.args, r.code, r.stderr, tc.err)
		}
	}

	// the whole document: -d, and the non-terminal default (JSON plus snap's warning)
	mustSnapsim(t, root, "unset", "tls", "obj", "flag", "str")
	if got := mustSnapsim(t, root, "get", "-d"); got != "{\n\t\"num\": 42\n}\n" {
		t.Errorf("get -d: %q", got)
	}
	r := snapsim(t, root, "get")
	if r.stdout != "{\n\t\"num\": 42\n}\n" || !strings.HasPrefix(r.stderr, "WARNING: The output of 'snap get' will become a list") {
		t.Errorf("get: %q %q", r.stdout, r.stderr)
	}
	mustSnapsim(t, root, "unset", "demo", "num")
	r = snapsim(t, root, "get")
	if r.code != 1 || r.stderr != "error: snap \"demo\" has no configuration\n" {
		t.Errorf("get without configuration: %d %q", r.code, r.stderr)
	}
	if got := mustSnapsim(t, root, "get", "-d"); got != "{}\n" {
		t.Errorf("get -d without configuration: %q", got)
	}
}

func TestSetWithoutConfigureHook(t *testing.T) {
	root := newRoot(t)
	mustSnapsim(t, root, "install", writeSnap(t, configYaml, map[string]string{}))
	r := snapsim(t, root, "set", "a=1")
	want := "error: cannot perform the following tasks:\n- Run configure hook of \"demo\" snap (snap \"demo\" has no \"configure\" hook)\n"
	if r.code != 1 || r.stderr != want {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
}

func TestConfigureTransaction(t *testing.T) {
	root := newRoot(t)
	dir := writeSnap(t, configYaml, map[string]string{"meta/hooks/configure": configureHook})
	mustSnapsim(t, root, "install", dir)
	common := filepath.Join(root, "var/snap/demo/common")

	// the install-time configure hook ran with nothing set
	if got := readFile(t, filepath.Join(common, "seen.json")); got != "{}\n" {
		t.Errorf("install-time snapctl get -d: %q", got)
	}

	mustSnapsim(t, root, "set", "a=1", `b={"c":true}`)
	// snapctl get -d: the staged values, missing keys skipped, tab-indented
	if got := readFile(t, filepath.Join(common, "seen.json")); got != "{\n\t\"a\": 1,\n\t\"b\": {\n\t\t\"c\": true\n\t}\n}\n" {
		t.Errorf("hook saw %q", got)
	}
	// committed: the patch and what the hook set itself
	if got := mustSnapsim(t, root, "get", "-d"); got != "{\n\t\"a\": 1,\n\t\"attempt\": 1,\n\t\"b\": {\n\t\t\"c\": true\n\t}\n}\n" {
		t.Errorf("after set: %q", got)
	}

	// hook failure: nothing is committed, neither the patch nor the hook's own set
	r := snapsim(t, root, "set", "a=fail", "b=2")
	want := "error: cannot perform the following tasks:\n- Run configure hook of \"demo\" snap (run hook \"configure\": refusing a=fail)\n"
	if r.code != 1 || r.stderr != want || r.stdout != "" {
		t.Errorf("failing set: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := mustSnapsim(t, root, "get", "-d", "a", "attempt", "b"); got != "{\n\t\"a\": 1,\n\t\"attempt\": 1,\n\t\"b\": {\n\t\t\"c\": true\n\t}\n}\n" {
		t.Errorf("after failed set: %q", got)
	}

	// multi-line output (stdout and stderr together) is framed as snapd frames it
	r = snapsim(t, root, "unset", "b", "a")
	if r.code != 0 {
		t.Fatalf("unset: %q", r.stderr)
	}
	r = snapsim(t, root, "set", "a=fail2")
	want = "error: cannot perform the following tasks:\n- Run configure hook of \"demo\" snap (run hook \"configure\": \n-----\nfirst line\nsecond line\n-----)\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("multi-line failure: %q", r.stderr)
	}

	// the hook's unset is committed with the patch
	mustSnapsim(t, root, "set", "b=keep")
	mustSnapsim(t, root, "set", "a=drop")
	if got := mustSnapsim(t, root, "get", "-d"); got != "{\n\t\"a\": \"drop\",\n\t\"attempt\": \"drop\"\n}\n" {
		t.Errorf("after hook unset: %q", got)
	}

	// the state file is snapd's state with the options under "config"
	if data := readFile(t, filepath.Join(root, "var/lib/snapsim/state.json")); !strings.Contains(data, `"config":{"demo":{"a":"drop","attempt":"drop"}}`) {
		t.Errorf("state file: %s", data)
	}
}

func TestConfigureHookTimeout(t *testing.T) {
	t.Setenv("SNAPD_CONFIGURE_HOOK_TIMEOUT", "300ms")
	root := newRoot(t)
	hook := "#!/bin/sh\n[ \"$(snapctl get slow)\" = yes ] && sleep 20\nexit 0\n"
	mustSnapsim(t, root, "install", writeSnap(t, configYaml, map[string]string{"meta/hooks/configure": hook}))
	start := time.Now()
	r := snapsim(t, root, "set", "slow=yes")
	if time.Since(start) > 10*time.Second {
		t.Errorf("timeout not applied: %s", time.Since(start))
	}
	want := "error: cannot perform the following tasks:\n- Run configure hook of \"demo\" snap (run hook \"configure\": <exceeded maximum runtime of 300ms>)\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d stderr %q", r.code, r.stderr)
	}
	if r := snapsim(t, root, "get", "slow"); r.code != 1 {
		t.Errorf("timed-out patch committed: %q", r.stdout)
	}
}

func TestConcurrentSetsSerialize(t *testing.T) {
	root := newRoot(t)
	// read-modify-write in the hook: lost updates would show if two sets overlapped
	hook := `#!/bin/sh
n=$(snapctl get n)
k=$(snapctl get k)
sleep 0.05
snapctl set "n=$((${n:-0} + 1))" "seen-$k=true"
`
	mustSnapsim(t, root, "install", writeSnap(t, configYaml, map[string]string{"meta/hooks/configure": hook}))
	mustSnapsim(t, root, "set", "n=0", "k=0")
	const workers = 4
	done := make(chan result, workers)
	for i := 1; i <= workers; i++ {
		go func(i int) {
			done <- execSnapsim(t, root, "", "set", "k="+string(rune('0'+i)))
		}(i)
	}
	for i := 0; i < workers; i++ {
		if r := <-done; r.code != 0 {
			t.Errorf("concurrent set: %q", r.stderr)
		}
	}
	if got := mustSnapsim(t, root, "get", "n"); got != "5\n" {
		t.Errorf("n = %q, want 5 (lost update)", got)
	}
}

func TestInvalidSnapRefused(t *testing.T) {
	root := newRoot(t)
	dir := writeSnap(t, "name: demo\nversion: '1'\napps:\n  x:\n    command: bin/x\n    daemon: bogus\n", map[string]string{"bin/x": "#!/bin/sh\n"})
	r := snapsim(t, root, "install", dir)
	if r.code != 1 || !strings.Contains(r.stderr, `"daemon" field contains invalid value "bogus"`) {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "snap", "demo")); !os.IsNotExist(err) {
		t.Errorf("invalid snap was copied: %v", err)
	}
}

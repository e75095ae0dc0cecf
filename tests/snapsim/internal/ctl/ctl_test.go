package ctl

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/snapcore/snapd/client"
	_ "github.com/snapcore/snapd/interfaces/builtin"
	"github.com/snapcore/snapd/overlord/configstate/config"
	"github.com/snapcore/snapd/overlord/state"
	"github.com/snapcore/snapd/snap"
)

const yaml = `name: demo
version: '1'
apps:
  a:
    command: bin/a
    daemon: simple
  b:
    command: bin/b
    daemon: simple
    install-mode: disable
  tool:
    command: bin/tool
`

type fakeContext struct {
	info    *snap.Info
	hook    string
	st      *state.State
	tr      *config.Transaction
	actions []*Instruction
	health  *Health
}

func newFake(t *testing.T, hook string, initial map[string]interface{}) *fakeContext {
	t.Helper()
	info, err := snap.InfoFromSnapYaml([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	st := state.New(nil)
	st.Lock()
	defer st.Unlock()
	tr := config.NewTransaction(st)
	for k, v := range initial {
		if err := tr.Set("demo", k, v); err != nil {
			t.Fatal(err)
		}
	}
	tr.Commit()
	return &fakeContext{info: info, hook: hook, st: st, tr: config.NewTransaction(st)}
}

func (c *fakeContext) InstanceName() string             { return "demo" }
func (c *fakeContext) HookName() string                 { return c.hook }
func (c *fakeContext) Info() *snap.Info                 { return c.info }
func (c *fakeContext) Transaction() *config.Transaction { return c.tr }
func (c *fakeContext) ServiceControl(inst *Instruction) error {
	c.actions = append(c.actions, inst)
	return nil
}
func (c *fakeContext) ServiceStatus(apps []*snap.AppInfo, global bool) ([]client.AppInfo, error) {
	var out []client.AppInfo
	for _, app := range apps {
		out = append(out, client.AppInfo{Snap: "demo", Name: app.Name, Daemon: app.Daemon, Enabled: app.Name == "a", Active: app.Name == "a"})
	}
	return out, nil
}
func (c *fakeContext) SetHealth(h *Health) error { c.health = h; return nil }

func run(ctx Context, uid uint32, args ...string) (string, string, error) {
	stdout, stderr, err := Run(ctx, args, uid)
	return string(stdout), string(stderr), err
}

var initial = map[string]interface{}{
	"name":  "member-1",
	"port":  2379,
	"tls":   map[string]interface{}{"peer": map[string]interface{}{"cert": "PEM", "client-cert-auth": true}},
	"empty": "",
}

func TestGet(t *testing.T) {
	tests := []struct {
		args []string
		out  string
		err  string
	}{
		{[]string{"get", "name"}, "member-1\n", ""},
		{[]string{"get", "port"}, "2379\n", ""},
		{[]string{"get", "-t", "name"}, "\"member-1\"\n", ""},
		{[]string{"get", "missing"}, "\n", ""},
		{[]string{"get", "-t", "missing"}, "null\n", ""},
		{[]string{"get", "tls.peer.cert"}, "PEM\n", ""},
		{[]string{"get", "tls.peer"}, "{\n\t\"cert\": \"PEM\",\n\t\"client-cert-auth\": true\n}\n", ""},
		// -d: a document of the requested keys; missing keys are skipped
		{[]string{"get", "-d", "name", "missing", "port"}, "{\n\t\"name\": \"member-1\",\n\t\"port\": 2379\n}\n", ""},
		{[]string{"get", "-d", "missing"}, "{}\n", ""},
		{[]string{"get", "-d", "name"}, "{\n\t\"name\": \"member-1\"\n}\n", ""},
		{[]string{"get", "name", "port"}, "{\n\t\"name\": \"member-1\",\n\t\"port\": 2379\n}\n", ""},
		{[]string{"get"}, "", "get which option?"},
		{[]string{"get", "-d", "-t", "name"}, "", "cannot use -d and -t together"},
		{[]string{"get", "name.sub"}, "", `snap "demo" option "name" is not a map`},
		{[]string{"get", "Bad_Key"}, "", `invalid option name: "Bad_Key"`},
		{[]string{"get", ":plug", "attr"}, "", "interface attributes can only be read during the execution of interface hooks"},
	}
	for _, tc := range tests {
		ctx := newFake(t, "configure", initial)
		out, _, err := run(ctx, 0, tc.args...)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: unexpected error %v", tc.args, err)
			continue
		}
		if out != tc.out {
			t.Errorf("%q: output %q, want %q", tc.args, out, tc.out)
		}
	}
}

func TestSetUnsetTyping(t *testing.T) {
	// want is the JSON encoding of the stored value; "" means not set
	tests := []struct {
		args []string
		key  string
		want string
		err  string
	}{
		{[]string{"set", "k=1"}, "k", `1`, ""},
		{[]string{"set", "k=1.5e3"}, "k", `1.5e3`, ""},
		{[]string{"set", "k=true"}, "k", `true`, ""},
		{[]string{"set", "k=null"}, "k", "", ""},
		{[]string{"set", "k=hello"}, "k", `"hello"`, ""},
		{[]string{"set", "k=hello world"}, "k", `"hello world"`, ""},
		{[]string{"set", `k="quoted"`}, "k", `"quoted"`, ""},
		{[]string{"set", "k=[1"}, "k", `"[1"`, ""},
		{[]string{"set", `k={"a":1}`}, "k", `{"a":1}`, ""},
		{[]string{"set", "-s", "k=true"}, "k", `"true"`, ""},
		{[]string{"set", "-s", "k=1"}, "k", `"1"`, ""},
		{[]string{"set", "-t", `k="s"`}, "k", `"s"`, ""},
		{[]string{"set", "-t", "k=[1"}, "", "", "failed to parse JSON: unexpected EOF"},
		{[]string{"set", "-t", "-s", "k=1"}, "", "", "cannot use -t and -s together"},
		{[]string{"set", "a.b.c=x"}, "a", `{"b":{"c":"x"}}`, ""},
		{[]string{"set", "tls.peer.cert=NEW"}, "tls.peer", `{"cert":"NEW","client-cert-auth":true}`, ""},
		{[]string{"set", `tls.peer={"ca":"C"}`}, "tls.peer", `{"ca":"C"}`, ""},
		{[]string{"set", "name!"}, "name", "", ""},
		{[]string{"unset", "name"}, "name", "", ""},
		{[]string{"unset", "tls.peer"}, "tls", `{}`, ""}, // snapd leaves the empty parent
		{[]string{"unset", "tls.peer.cert"}, "tls.peer", `{"client-cert-auth":true}`, ""},
		{[]string{"set"}, "", "", "set which option?"},
		{[]string{"unset"}, "", "", "unset which option?"},
		{[]string{"set", "novalue"}, "", "", `invalid configuration: "novalue" (want key=value)`},
		{[]string{"set", "!"}, "", "", "configuration keys cannot be empty (use key! to unset a key)"},
	}
	for _, tc := range tests {
		ctx := newFake(t, "configure", initial)
		_, _, err := run(ctx, 0, tc.args...)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: unexpected error %v", tc.args, err)
			continue
		}
		var got interface{}
		err = ctx.tr.Get("demo", tc.key, &got)
		if tc.want == "" {
			if !config.IsNoOption(err) {
				t.Errorf("%q: %s still set (%v, %v)", tc.args, tc.key, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		data, _ := json.Marshal(got)
		if string(data) != tc.want {
			t.Errorf("%q: %s = %s, want %s", tc.args, tc.key, data, tc.want)
		}
	}
}

// The staged values are visible to later gets of the same context, and only
// land in the state once the transaction is committed.
func TestSetVisibleBeforeCommit(t *testing.T) {
	ctx := newFake(t, "configure", initial)
	if _, _, err := run(ctx, 0, "set", "name=other"); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(ctx, 0, "get", "name")
	if err != nil || out != "other\n" {
		t.Fatalf("get after set: %q %v", out, err)
	}
	ctx.st.Lock()
	fresh := config.NewTransaction(ctx.st)
	ctx.st.Unlock()
	var v string
	fresh.Get("demo", "name", &v)
	if v != "member-1" {
		t.Fatalf("uncommitted value leaked: %q", v)
	}
	ctx.st.Lock()
	ctx.tr.Commit()
	ctx.st.Unlock()
	ctx.st.Lock()
	fresh = config.NewTransaction(ctx.st)
	ctx.st.Unlock()
	fresh.Get("demo", "name", &v)
	if v != "other" {
		t.Fatalf("committed value missing: %q", v)
	}
}

func TestServiceCommands(t *testing.T) {
	tests := []struct {
		args []string
		want *Instruction
		err  string
	}{
		{[]string{"restart", "demo.a"}, &Instruction{Action: "restart", Names: []string{"demo.a"}}, ""},
		{[]string{"start", "--enable", "demo"}, &Instruction{Action: "start", Names: []string{"demo"}, Enable: true}, ""},
		{[]string{"stop", "--disable", "demo.a", "demo.b"}, &Instruction{Action: "stop", Names: []string{"demo.a", "demo.b"}, Disable: true}, ""},
		{[]string{"restart", "--reload", "demo.b"}, &Instruction{Action: "restart", Names: []string{"demo.b"}, Reload: true}, ""},
		{[]string{"restart", "demo.tool"}, nil, `unknown service: "demo.tool"`},
		{[]string{"restart", "other.a"}, nil, `unknown service: "other.a"`},
		{[]string{"start", "demo.nope"}, nil, `unknown service: "demo.nope"`},
		{[]string{"restart"}, nil, "the required argument `<service> (at least 1 argument)` was not provided"},
		{[]string{"restart", "--enable", "demo.a"}, nil, "unknown flag `enable'"},
	}
	for _, tc := range tests {
		ctx := newFake(t, "configure", nil)
		_, _, err := run(ctx, 0, tc.args...)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			if len(ctx.actions) != 0 {
				t.Errorf("%q: action recorded despite error", tc.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if len(ctx.actions) != 1 {
			t.Errorf("%q: %d actions", tc.args, len(ctx.actions))
			continue
		}
		got := ctx.actions[0]
		if got.Action != tc.want.Action || strings.Join(got.Names, ",") != strings.Join(tc.want.Names, ",") ||
			got.Enable != tc.want.Enable || got.Disable != tc.want.Disable || got.Reload != tc.want.Reload {
			t.Errorf("%q: got %+v, want %+v", tc.args, got, tc.want)
		}
	}
}

func TestServicesOutput(t *testing.T) {
	ctx := newFake(t, "", nil)
	out, _, err := run(ctx, 0, "services")
	if err != nil {
		t.Fatal(err)
	}
	want := "Service  Startup   Current   Notes\n" +
		"demo.a   enabled   active    -\n" +
		"demo.b   disabled  inactive  -\n"
	if out != want {
		t.Errorf("services output:\n%q\nwant\n%q", out, want)
	}
	out, _, err = run(ctx, 1000, "services", "demo.b")
	if err != nil || !strings.Contains(out, "demo.b") || strings.Contains(out, "demo.a") {
		t.Errorf("services demo.b as non-root: %q %v", out, err)
	}
}

func TestSetHealth(t *testing.T) {
	long := strings.Repeat("x", 80)
	tests := []struct {
		args []string
		want *Health
		err  string
	}{
		{[]string{"set-health", "okay"}, &Health{Status: "okay"}, ""},
		{[]string{"set-health", "blocked", "needs a certificate"}, &Health{Status: "blocked", Message: "needs a certificate"}, ""},
		{[]string{"set-health", "--code=no-cert", "error", "certificate expired"}, &Health{Status: "error", Message: "certificate expired", Code: "no-cert"}, ""},
		{[]string{"set-health", "waiting", long}, &Health{Status: "waiting", Message: strings.Repeat("x", 69) + "…"}, ""},
		{[]string{"set-health", "okay", "all good here"}, nil, `when status is "okay", message and code must be empty`},
		{[]string{"set-health", "blocked"}, nil, `when status is not "okay", message is required`},
		{[]string{"set-health", "blocked", "short"}, nil, "message must be at least 7 characters long (got 5)"},
		{[]string{"set-health", "unknown", "whatever it is"}, nil, `status cannot be manually set to "unknown"`},
		{[]string{"set-health", "bogus", "whatever it is"}, nil, `invalid status "bogus", must be one of "unknown", "okay", "waiting", "blocked", "error"`},
		{[]string{"set-health", "--code=X1", "error", "whatever it is"}, nil, "code must have between 3 and 30 characters, got 2"},
		{[]string{"set-health", "--code=Bad-code", "error", "whatever it is"}, nil, `invalid code "Bad-code" (code must start with lowercase ASCII letters, and contain only ASCII letters and numbers, optionally separated by single dashes)`},
	}
	for _, tc := range tests {
		ctx := newFake(t, "", nil)
		_, _, err := run(ctx, 1000, tc.args...) // allowed for non-root
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if ctx.health == nil || *ctx.health != *tc.want {
			t.Errorf("%q: health %+v, want %+v", tc.args, ctx.health, tc.want)
		}
	}
}

func TestPermissionsAndContext(t *testing.T) {
	ctx := newFake(t, "", initial)
	if _, _, err := run(ctx, 1000, "set", "a=b"); err == nil || err.Error() != `cannot use "set" with uid 1000, try with sudo` {
		t.Errorf("non-root set: %v", err)
	}
	if out, _, err := run(ctx, 1000, "get", "name"); err != nil || out != "member-1\n" {
		t.Errorf("non-root get: %q %v", out, err)
	}
	if _, _, err := run(nil, 0, "get", "name"); err == nil || err.Error() != `cannot invoke snapctl operation commands (here "get") from outside of a snap` {
		t.Errorf("no context: %v", err)
	}
	if _, _, err := run(nil, 0, "restart", "demo.a"); err == nil || err.Error() != `cannot invoke snapctl operation commands (here "restart") from outside of a snap` {
		t.Errorf("no context restart: %v", err)
	}
}

func TestResponses(t *testing.T) {
	ctx := newFake(t, "", initial)
	var out, errOut strings.Builder
	code := Result(Run(ctx, []string{"get"}, 0)).Render(&out, &errOut)
	if code != 1 || errOut.String() != "error: error running snapctl: get which option?\n" {
		t.Errorf("error rendering: %d %q", code, errOut.String())
	}
	out.Reset()
	errOut.Reset()
	code = Result(Run(ctx, []string{"set", "x=1"}, 1000)).Render(&out, &errOut)
	if code != 1 || errOut.String() != "error: cannot use \"set\" with uid 1000, try with sudo\n" {
		t.Errorf("forbidden rendering: %d %q", code, errOut.String())
	}
	out.Reset()
	errOut.Reset()
	code = Result(Run(ctx, []string{"get", "--help"}, 1000)).Render(&out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "snapctl [OPTIONS] get") {
		t.Errorf("help rendering: %d %q", code, out.String())
	}
}

package snapinfo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapcore/snapd/snap"
)

func writeSnap(t *testing.T, yaml string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "meta"), 0755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta", "snap.yaml"), []byte(yaml), 0644); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodYaml = `name: demo
version: '1.0'
summary: s
description: d
apps:
  daemon:
    command: bin/daemon
    daemon: simple
    install-mode: disable
system-usernames:
  snap_daemon: shared
`

func TestReadDirValid(t *testing.T) {
	dir := writeSnap(t, goodYaml, map[string]string{
		"bin/daemon":            "#!/bin/sh\n",
		"meta/hooks/configure":  "#!/bin/sh\n",
		"meta/hooks/not-a-hook": "#!/bin/sh\n",
	})
	info, err := ReadDir(dir, snap.R(-1))
	if err != nil {
		t.Fatal(err)
	}
	if info.SnapName() != "demo" || info.Revision.String() != "x1" {
		t.Fatalf("got %s %s", info.SnapName(), info.Revision)
	}
	if info.Hooks["configure"] == nil {
		t.Fatal("implicit configure hook not found")
	}
	if info.Hooks["not-a-hook"] != nil {
		t.Fatal("unsupported hook name accepted")
	}
	if app := info.Apps["daemon"]; app == nil || !app.IsService() || app.InstallMode != "disable" {
		t.Fatalf("daemon app not parsed: %+v", app)
	}
}

func TestReadDirRejects(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		files map[string]string
		err   string
	}{{
		name: "broken yaml",
		yaml: "name: demo\nversion: [1\n",
		err:  "cannot read snap",
	}, {
		name: "invalid snap name",
		yaml: "name: Demo_\nversion: '1'\n",
		err:  "invalid snap name",
	}, {
		name:  "unknown daemon type",
		yaml:  "name: demo\nversion: '1'\napps:\n  d:\n    command: bin/d\n    daemon: bogus\n",
		files: map[string]string{"bin/d": "#!/bin/sh\n"},
		err:   `"daemon" field contains invalid value "bogus"`,
	}, {
		name: "missing command",
		yaml: "name: demo\nversion: '1'\napps:\n  d:\n    command: bin/missing\n",
		err:  "contact developer",
	}, {
		name: "unsupported architecture",
		yaml: "name: demo\nversion: '1'\narchitectures: [s390x-not-this]\n",
		err:  "supported architectures",
	}, {
		name: "unsupported system username",
		yaml: "name: demo\nversion: '1'\nsystem-usernames:\n  nobody-here: shared\n",
		err:  "unsupported system username",
	}, {
		name: "no snap.yaml",
		yaml: "",
		err:  "does not contain an unpacked snap",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeSnap(t, tc.yaml, tc.files)
			if tc.yaml == "" {
				os.Remove(filepath.Join(dir, "meta", "snap.yaml"))
			}
			_, err := ReadDir(dir, snap.R(-1))
			if err == nil {
				t.Fatalf("expected an error containing %q", tc.err)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %q does not contain %q", err, tc.err)
			}
		})
	}
}

package atomicfile

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func readSet(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func set(prefix string, names ...string) []File {
	var out []File
	for _, n := range names {
		out = append(out, File{Name: n, Data: []byte(prefix + n), Mode: 0o600})
	}
	return out
}

func asMap(files []File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		out[f.Name] = string(f.Data)
	}
	return out
}

func TestReplaceDir(t *testing.T) {
	tests := []struct {
		name     string
		old, new []File
	}{
		{"create", nil, set("new-", "peer.pem", "peer.key")},
		{"replace", set("old-", "peer.pem", "peer.key"), set("new-", "peer.pem", "peer.key")},
		{"shrink", set("old-", "peer.pem", "peer.key", "client.pem"), set("new-", "peer.pem")},
		{"empty", set("old-", "peer.pem"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tls")
			if tc.old != nil {
				if err := ReplaceDir(dir, tc.old, 0o700, Keep); err != nil {
					t.Fatal(err)
				}
			}
			if err := ReplaceDir(dir, tc.new, 0o700, Keep); err != nil {
				t.Fatal(err)
			}
			if got := readSet(t, dir); !maps.Equal(got, asMap(tc.new)) {
				t.Fatalf("got %v", got)
			}
			st, _ := os.Stat(dir)
			if st.Mode().Perm() != 0o700 {
				t.Fatalf("dir mode %v", st.Mode().Perm())
			}
			leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".tls.*"))
			if len(leftovers) != 0 {
				t.Fatalf("staging left behind: %v", leftovers)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etcd.conf.yml")
	for _, content := range []string{"one\n", "two\n"} {
		if err := WriteFile(path, []byte(content), 0o600, Keep); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if string(b) != content {
			t.Fatalf("got %q", b)
		}
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
}

// TestCrashAtEachStep kills a child process with SIGKILL at each step of a
// ReplaceDir and checks that the directory then holds the old set or the
// new set, complete, and that the next write recovers.
func TestCrashAtEachStep(t *testing.T) {
	if os.Getenv("ATOMICFILE_CHILD") != "" {
		dir := os.Getenv("ATOMICFILE_DIR")
		if err := ReplaceDir(dir, set("new-", "peer.pem", "peer.key", "peer_ca.pem"), 0o700, Keep); err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	oldSet := set("old-", "peer.pem", "peer.key", "client.pem")
	newSet := set("new-", "peer.pem", "peer.key", "peer_ca.pem")
	points := []string{"staged:peer.pem", "staged:peer.key", "staged:peer_ca.pem", "staged-set", "switched"}
	for _, fp := range points {
		t.Run(fp, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tls")
			if err := ReplaceDir(dir, oldSet, 0o700, Keep); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashAtEachStep$")
			cmd.Env = append(os.Environ(), "ATOMICFILE_CHILD=1", "ATOMICFILE_DIR="+dir, FailpointEnv+"="+fp)
			err := cmd.Run()
			if err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("child was not killed at %s: %v", fp, err)
			}
			got := readSet(t, dir)
			wantNew := fp == "switched"
			if wantNew && !maps.Equal(got, asMap(newSet)) || !wantNew && !maps.Equal(got, asMap(oldSet)) {
				t.Fatalf("after a crash at %s the directory holds %v", fp, got)
			}
			if err := Recover(dir, Keep); err != nil {
				t.Fatal(err)
			}
			if err := ReplaceDir(dir, newSet, 0o700, Keep); err != nil {
				t.Fatal(err)
			}
			if got := readSet(t, dir); !maps.Equal(got, asMap(newSet)) {
				t.Fatalf("no recovery: %v", got)
			}
		})
	}
}

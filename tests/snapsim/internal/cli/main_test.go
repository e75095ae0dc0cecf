package cli

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/services"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/sim"
)

const asMainEnv = "SNAPSIM_TEST_AS_MAIN"

// The test binary is also snapsim: re-executed as the supervisor, as the
// service helper, as snapctl (through the ROOT/usr/bin/snapctl link), and as
// the CLI when asMainEnv is set.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "snapctl" || os.Getenv(asMainEnv) == "1" ||
		(len(os.Args) > 1 && (os.Args[1] == services.SuperviseVerb || os.Args[1] == sim.ServiceHelperVerb)) {
		os.Exit(Main(os.Args, IO{Stdout: os.Stdout, Stderr: os.Stderr}))
	}
	os.Exit(m.Run())
}

type result struct {
	stdout, stderr string
	code           int
}

// snapsim runs the CLI in-process on root.
func snapsim(t *testing.T, root string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(append([]string{"snapsim", "--root", root}, args...), IO{Stdout: &stdout, Stderr: &stderr})
	return result{stdout.String(), stderr.String(), code}
}

func mustSnapsim(t *testing.T, root string, args ...string) string {
	t.Helper()
	r := snapsim(t, root, args...)
	if r.code != 0 {
		t.Fatalf("snapsim %q: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// execSnapsim runs the CLI as a separate process (for run, which execs).
func execSnapsim(t *testing.T, root string, stdin string, args ...string) result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"--root", root}, args...)...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// writeSnap writes a primed snap tree; files are made executable.
func writeSnap(t *testing.T, yaml string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["meta/snap.yaml"] = yaml
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0755)
		if name == "meta/snap.yaml" {
			mode = 0644
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newRoot returns a unit root that is cleaned up (snap removed, daemons
// stopped, read-only trees made removable) after the test.
func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	t.Cleanup(func() {
		snapsim(t, root, "remove")
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0755)
			}
			return nil
		})
	})
	return root
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// eventually polls cond for up to limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Package integration runs the snap's main scenarios with real daemons,
// real etcdctl and network namespaces, through snapsim. It needs the built
// tree (make prime) and root; make test-integration provides both.
package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lab"
)

// repo is the repository root with bin/ and prime/, from make.
func repo(t *testing.T) string {
	t.Helper()
	root := os.Getenv("CHARMED_ETCD_ROOT")
	if root == "" {
		t.Fatal("CHARMED_ETCD_ROOT is not set: run the integration tests with make test-integration")
	}
	if _, err := os.Stat(filepath.Join(root, "prime", "meta", "snap.yaml")); err != nil {
		t.Fatalf("no primed snap under %s: run make prime: %v", root, err)
	}
	return root
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func options(t *testing.T) lab.Options {
	return lab.Options{Repo: repo(t), Members: 3, Log: testWriter{t}, Loopback: os.Geteuid() != 0}
}

// TestWalkthrough is the seed document end to end: the same code as make demo.
func TestWalkthrough(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := lab.Walkthrough(ctx, options(t)); err != nil {
		t.Fatal(err)
	}
}

package store

import (
	"os"
	"testing"
	"time"

	"github.com/snapcore/snapd/overlord/configstate/config"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
)

func TestCommitAndReadBack(t *testing.T) {
	root := layout.Root{Dir: t.TempDir()}
	s, err := Lock(root)
	if err != nil {
		t.Fatal(err)
	}
	st := s.State()
	st.Lock()
	tr := config.NewTransaction(st)
	tr.Set("demo", "a.b", 1)
	tr.Commit()
	SetSnap(st, "demo", &SnapState{Name: "demo", Current: "x1", Services: map[string]*ServiceState{"d": {Enabled: true}}})
	st.Unlock() // checkpoints

	fi, err := os.Stat(root.StateFile())
	if err != nil || fi.Mode().Perm() != 0600 {
		t.Fatalf("state file: %v %v", fi, err)
	}

	// a concurrent Lock waits until Close
	locked := make(chan struct{})
	go func() {
		s2, err := Lock(root)
		if err == nil {
			s2.Close()
		}
		close(locked)
	}()
	select {
	case <-locked:
		t.Fatal("second Lock did not wait")
	case <-time.After(100 * time.Millisecond):
	}
	s.Close()
	select {
	case <-locked:
	case <-time.After(5 * time.Second):
		t.Fatal("second Lock never got the lock")
	}

	ro, err := ReadOnly(root)
	if err != nil {
		t.Fatal(err)
	}
	ro.Lock()
	defer ro.Unlock()
	var v int
	if err := config.NewTransaction(ro).Get("demo", "a.b", &v); err != nil || v != 1 {
		t.Fatalf("a.b = %d, %v", v, err)
	}
	if sn := Snap(ro, ""); sn == nil || sn.Current != "x1" || !sn.Services["d"].Enabled {
		t.Fatalf("snap record %+v", sn)
	}
}

func TestHealth(t *testing.T) {
	root := layout.Root{Dir: t.TempDir()}
	if err := SetHealth(root, "demo", &Health{Status: "blocked", Message: "needs certificates"}); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHealth(root)
	if err != nil || h["demo"] == nil || h["demo"].Status != "blocked" {
		t.Fatalf("%+v %v", h, err)
	}
	if err := SetHealth(root, "demo", nil); err != nil {
		t.Fatal(err)
	}
	if h, _ := ReadHealth(root); h["demo"] != nil {
		t.Fatal("health not forgotten")
	}
}

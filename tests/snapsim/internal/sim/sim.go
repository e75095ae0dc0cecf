// Package sim implements snapsim's operations on one unit root, following
// snapd's task sequences (snapstate, configstate, hookstate, servicestate).
package sim

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/runner"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/services"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/store"
)

// Sim runs operations on one root.
type Sim struct {
	Root   layout.Root
	Self   string
	Stdout io.Writer
	Stderr io.Writer

	store *store.Store
	svc   *services.Manager
}

// New returns a Sim for root; self is the snapsim executable (re-executed for
// supervisors and linked as snapctl).
func New(root layout.Root, self string, stdout, stderr io.Writer) *Sim {
	return &Sim{
		Root:   root,
		Self:   self,
		Stdout: stdout,
		Stderr: stderr,
		svc:    &services.Manager{Root: root, Self: self},
	}
}

// TaskError is one failed task of a change.
type TaskError struct {
	Summary string
	Err     error
}

// ChangeError is snapd's change error (state.Change.Err).
type ChangeError struct {
	Tasks []TaskError
}

func (e *ChangeError) Error() string {
	var b strings.Builder
	b.WriteString("cannot perform the following tasks:\n")
	for _, t := range e.Tasks {
		fmt.Fprintf(&b, "- %s (%s)\n", t.Summary, t.Err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func taskErr(summary string, err error) error {
	return &ChangeError{Tasks: []TaskError{{Summary: summary, Err: err}}}
}

// lock takes the root's lock; the caller must call unlock.
func (s *Sim) lock() error {
	st, err := store.Lock(s.Root)
	if err != nil {
		return err
	}
	s.store = st
	return nil
}

func (s *Sim) unlock() {
	if s.store != nil {
		s.store.Close()
		s.store = nil
	}
}

// installedSnap returns the installed snap's record and info (the state must
// be loaded: under lock or read-only).
func (s *Sim) installedSnap(name string) (*store.SnapState, *snap.Info, error) {
	st := s.store.State()
	st.Lock()
	snapst := store.Snap(st, name)
	st.Unlock()
	if snapst == nil {
		if name == "" {
			return nil, nil, fmt.Errorf("no snap is installed in %s", s.Root.Dir)
		}
		return nil, nil, &snap.NotInstalledError{Snap: name}
	}
	info, err := services.LoadCurrent(s.Root, snapst.Name)
	if err != nil {
		return nil, nil, err
	}
	return snapst, info, nil
}

// InstalledName returns the name of the snap installed in root ("" if none).
func InstalledName(root layout.Root) string {
	st, err := store.ReadOnly(root)
	if err != nil {
		return ""
	}
	st.Lock()
	defer st.Unlock()
	if snapst := store.Snap(st, ""); snapst != nil {
		return snapst.Name
	}
	return ""
}

func (s *Sim) runCtx(info *snap.Info) *runner.Context {
	return &runner.Context{Root: s.Root, Info: info, UID: os.Getuid(), EUID: os.Geteuid()}
}

// ensureShim makes ROOT/usr/bin/snapctl point at snapsim.
func (s *Sim) ensureShim() error {
	if err := os.MkdirAll(s.Root.BinDir(), 0755); err != nil {
		return err
	}
	link := filepath.Join(s.Root.BinDir(), "snapctl")
	if target, err := os.Readlink(link); err == nil && target == s.Self {
		return nil
	}
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(s.Self, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

// ownerUID is the uid that owns the unit: it counts as root for snapctl.
func (s *Sim) ownerUID() uint32 {
	fi, err := os.Stat(s.Root.StateDir())
	if err != nil {
		return uint32(os.Geteuid())
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}

// MapUID maps a caller's uid to what snapd would see: the unit's owner is root.
func (s *Sim) MapUID(uid uint32) uint32 {
	if uid == s.ownerUID() {
		return 0
	}
	return uid
}

func newCookie() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

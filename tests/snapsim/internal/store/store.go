// Package store keeps a unit's state: snapd's overlord/state.State persisted
// as ROOT/var/lib/snapsim/state.json (written atomically: temp file, fsync,
// rename, fsync of the directory), and guarded by an flock so that commands
// on one root serialize. Options live under the "config" key exactly as snapd
// keeps them, so overlord/configstate/config transactions work unchanged.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/snapcore/snapd/osutil"
	"github.com/snapcore/snapd/overlord/state"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
)

// ServiceState is what snapsim persists about one service.
type ServiceState struct {
	Enabled bool `json:"enabled"`
}

// SnapState is the installed snap as recorded in the state.
type SnapState struct {
	Name     string                   `json:"name"`
	Version  string                   `json:"version"`
	Current  string                   `json:"current"`
	Sequence []string                 `json:"sequence"`
	Services map[string]*ServiceState `json:"services"`
}

const snapsKey = "snaps"

type backend struct {
	path string
}

func (b *backend) Checkpoint(data []byte) error {
	return osutil.AtomicWriteFile(b.path, data, 0600, 0)
}

func (b *backend) EnsureBefore(time.Duration) {}

// Store is an open, exclusively locked state.
type Store struct {
	root layout.Root
	lock *os.File
	st   *state.State
}

// Lock takes the root's exclusive lock (waiting for it) and loads the state.
func Lock(root layout.Root) (*Store, error) {
	if err := root.EnsureStateDirs(); err != nil {
		return nil, err
	}
	f, err := flock(root.LockFile())
	if err != nil {
		return nil, err
	}
	st, err := load(root, &backend{path: root.StateFile()})
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Store{root: root, lock: f, st: st}, nil
}

func flock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot lock %s: %v", path, err)
	}
	return f, nil
}

func load(root layout.Root, b state.Backend) (*state.State, error) {
	f, err := os.Open(root.StateFile())
	if errors.Is(err, os.ErrNotExist) {
		return state.New(b), nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return state.ReadState(b, f)
}

// ReadOnly loads the last committed state without taking the lock (the state
// file is only ever replaced by rename, so it is always complete). Changes made
// to the returned state are never written.
func ReadOnly(root layout.Root) (*state.State, error) {
	return load(root, nil)
}

// ReadOnlyStore is ReadOnly wrapped as a Store (Close is a no-op).
func ReadOnlyStore(root layout.Root) (*Store, error) {
	st, err := load(root, nil)
	if err != nil {
		return nil, err
	}
	return &Store{root: root, st: st}, nil
}

// State returns the loaded state; lock it around every access.
func (s *Store) State() *state.State { return s.st }

// Root returns the unit root.
func (s *Store) Root() layout.Root { return s.root }

// Close releases the lock.
func (s *Store) Close() error {
	if s.lock == nil {
		return nil
	}
	err := s.lock.Close()
	s.lock = nil
	return err
}

// Snap returns the record of the installed snap called name, or of the only
// installed snap when name is empty. It returns nil when there is none. The
// state must be locked.
func Snap(st *state.State, name string) *SnapState {
	snaps := Snaps(st)
	if name != "" {
		return snaps[name]
	}
	for _, s := range snaps {
		return s
	}
	return nil
}

// Snaps returns every installed snap. The state must be locked.
func Snaps(st *state.State) map[string]*SnapState {
	var snaps map[string]*SnapState
	if err := st.Get(snapsKey, &snaps); err != nil && !errors.Is(err, state.ErrNoState) {
		panic(fmt.Errorf("internal error: cannot read installed snaps: %v", err))
	}
	if snaps == nil {
		snaps = make(map[string]*SnapState)
	}
	return snaps
}

// SetSnap records snapst (or deletes name when snapst is nil). The state
// must be locked.
func SetSnap(st *state.State, name string, snapst *SnapState) {
	snaps := Snaps(st)
	if snapst == nil {
		delete(snaps, name)
	} else {
		snaps[name] = snapst
	}
	st.Set(snapsKey, snaps)
}

// Health is what set-health records (snapd's healthstate.HealthState).
type Health struct {
	Revision  string    `json:"revision"`
	Timestamp time.Time `json:"timestamp"`
	Status    string    `json:"status"`
	Message   string    `json:"message,omitempty"`
	Code      string    `json:"code,omitempty"`
}

// ReadHealth returns the recorded health of every snap.
func ReadHealth(root layout.Root) (map[string]*Health, error) {
	data, err := os.ReadFile(root.HealthFile())
	if errors.Is(err, os.ErrNotExist) {
		return map[string]*Health{}, nil
	}
	if err != nil {
		return nil, err
	}
	var h map[string]*Health
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", root.HealthFile(), err)
	}
	if h == nil {
		h = map[string]*Health{}
	}
	return h, nil
}

// SetHealth records (or, with nil, forgets) a snap's health. It uses its own
// lock so that set-health never waits for a running operation.
func SetHealth(root layout.Root, snapName string, h *Health) error {
	if err := root.EnsureStateDirs(); err != nil {
		return err
	}
	f, err := flock(root.HealthLockFile())
	if err != nil {
		return err
	}
	defer f.Close()
	all, err := ReadHealth(root)
	if err != nil {
		return err
	}
	if h == nil {
		delete(all, snapName)
	} else {
		all[snapName] = h
	}
	data, err := json.Marshal(all)
	if err != nil {
		return err
	}
	return osutil.AtomicWriteFile(root.HealthFile(), data, 0644, 0)
}

// Package privs switches between root and the snap_daemon user the way
// snapd's confinement allows. Inside a strictly confined snap, root has no
// CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH or CAP_FOWNER: it cannot read, list,
// chmod or write in files and directories that belong to snap_daemon and
// are closed to others. Root code therefore works on those files under the
// owner's effective ids (seccomp allows setresuid(-1, snap_daemon, -1) with
// system-usernames) and switches back, and the daemon drops for good with
// an empty supplementary group list (the only setgroups seccomp allows).
package privs

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// ID is a uid and gid pair.
type ID struct{ UID, GID int }

var mu sync.Mutex

// As runs f with the effective uid and gid of id when the process runs as
// root, and with the process's own ids otherwise. Go applies setresuid to
// every thread of the process, so f may use any goroutine; callers must not
// run other root work concurrently.
func As(id ID, f func() error) error {
	if os.Geteuid() != 0 || id.UID == 0 {
		return f()
	}
	mu.Lock()
	defer mu.Unlock()
	if err := syscall.Setresgid(-1, id.GID, -1); err != nil {
		return fmt.Errorf("cannot switch to gid %d: %v", id.GID, err)
	}
	if err := syscall.Setresuid(-1, id.UID, -1); err != nil {
		_ = syscall.Setresgid(-1, 0, -1)
		return fmt.Errorf("cannot switch to uid %d: %v", id.UID, err)
	}
	ferr := f()
	// Back to root: the saved uid is still 0. A failure here would leave
	// the process half-privileged, which nothing after can handle.
	if err := syscall.Setresuid(-1, 0, -1); err != nil {
		panic(fmt.Sprintf("cannot switch back to uid 0: %v", err))
	}
	if err := syscall.Setresgid(-1, 0, -1); err != nil {
		panic(fmt.Sprintf("cannot switch back to gid 0: %v", err))
	}
	return ferr
}

// Drop switches a root process to id for good: real, effective and saved
// ids, and no supplementary groups. It does nothing when not root.
func Drop(id ID) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("cannot drop supplementary groups: %v", err)
	}
	if err := syscall.Setresgid(id.GID, id.GID, id.GID); err != nil {
		return fmt.Errorf("cannot switch to gid %d: %v", id.GID, err)
	}
	if err := syscall.Setresuid(id.UID, id.UID, id.UID); err != nil {
		return fmt.Errorf("cannot switch to uid %d: %v", id.UID, err)
	}
	return nil
}

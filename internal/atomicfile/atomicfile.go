// Package atomicfile writes files and sets of files so that a crash at any
// point leaves either the old content or the new, complete: never a partial
// file, never a certificate from one set beside a key from another.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/canonical/charmed-etcd-snap/internal/privs"
)

// Owner is the uid and gid files are given; -1 leaves them as created (used
// when not running as root).
type Owner struct{ UID, GID int }

// Keep is the Owner that changes nothing.
var Keep = Owner{-1, -1}

// Do runs f as the owner when root: work inside a directory that belongs
// to the owner and is closed to others needs the owner's ids under
// confinement (see package privs).
func (o Owner) Do(f func() error) error {
	if o.UID < 0 {
		return f()
	}
	return privs.As(privs.ID{UID: o.UID, GID: o.GID}, f)
}

// FailpointEnv names the environment variable that makes the process kill
// itself with SIGKILL at a named step. Crash-safety tests use it to stop the
// hook at each step of a write; it is inert when unset.
const FailpointEnv = "CHARMED_ETCD_FAILPOINT"

// Failpoint kills the process with SIGKILL when $CHARMED_ETCD_FAILPOINT is name.
func Failpoint(name string) {
	if os.Getenv(FailpointEnv) == name {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

// WriteFile replaces path with data: temp file in the same directory, write,
// fsync, chmod, chown, rename, fsync of the directory.
func WriteFile(path string, data []byte, mode os.FileMode, owner Owner) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if owner.UID >= 0 {
		if err := f.Chown(owner.UID, owner.GID); err != nil {
			return fmt.Errorf("cannot write %s: %v", path, err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	Failpoint("file-written:" + filepath.Base(path))
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	ok = true
	Failpoint("file-renamed:" + filepath.Base(path))
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so that renames in it survive a power loss.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot sync %s: %v", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cannot sync %s: %v", dir, err)
	}
	return nil
}

// File is one member of a set written by ReplaceDir.
type File struct {
	Name string
	Data []byte
	Mode os.FileMode
}

func staged(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".new")
}
func retired(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".old")
}

// Recover finishes or undoes a ReplaceDir that a crash interrupted. The
// directory itself always holds a complete set, so recovering means
// removing the staging copy, or, after a crash in the middle of the
// fallback (non-exchange) switch, putting the retired set back.
func Recover(dir string, owner Owner) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Lstat(retired(dir)); err == nil {
			if err := os.Rename(retired(dir), dir); err != nil {
				return fmt.Errorf("cannot restore %s: %v", dir, err)
			}
		}
	}
	for _, p := range []string{staged(dir), retired(dir)} {
		if err := removeOwned(p, owner); err != nil {
			return err
		}
	}
	return SyncDir(filepath.Dir(dir))
}

// removeOwned removes a directory that belongs to owner: its content as the
// owner, the directory itself from its parent as the caller.
func removeOwned(p string, owner Owner) error {
	if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	err := owner.Do(func() error {
		entries, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(p, e.Name())); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = os.Remove(p)
	}
	if err != nil {
		return fmt.Errorf("cannot clean up %s: %v", p, err)
	}
	return nil
}

// ReplaceDir makes dir hold exactly files, switching the whole set at once:
// the new set is written and synced in a sibling directory, which is then
// exchanged with dir in one renameat2(RENAME_EXCHANGE). A reader that opens
// dir/name sees the old set or the new set, never a mix.
func ReplaceDir(dir string, files []File, dirMode os.FileMode, owner Owner) error {
	if err := Recover(dir, owner); err != nil {
		return err
	}
	st := staged(dir)
	if err := os.Mkdir(st, dirMode); err != nil {
		return fmt.Errorf("cannot stage %s: %v", dir, err)
	}
	if err := os.Chmod(st, dirMode); err != nil {
		return fmt.Errorf("cannot stage %s: %v", dir, err)
	}
	if owner.UID >= 0 {
		if err := os.Chown(st, owner.UID, owner.GID); err != nil {
			return fmt.Errorf("cannot stage %s: %v", dir, err)
		}
	}
	err := owner.Do(func() error {
		for _, f := range files {
			// A file whose content, mode and owner do not change is linked,
			// not rewritten: it keeps its inode and mtime, so a leaf renewal
			// shows as a change of the leaf files alone.
			if unchanged(filepath.Join(dir, f.Name), f, owner) {
				if err := os.Link(filepath.Join(dir, f.Name), filepath.Join(st, f.Name)); err == nil {
					Failpoint("staged:" + f.Name)
					continue
				}
			}
			if err := writeNew(filepath.Join(st, f.Name), f.Data, f.Mode, owner); err != nil {
				return err
			}
			Failpoint("staged:" + f.Name)
		}
		return SyncDir(st)
	})
	if err != nil {
		return err
	}
	Failpoint("staged-set")
	parent := filepath.Dir(dir)
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(st, dir); err != nil {
			return fmt.Errorf("cannot switch %s: %v", dir, err)
		}
	} else if err := unix.Renameat2(unix.AT_FDCWD, st, unix.AT_FDCWD, dir, unix.RENAME_EXCHANGE); err != nil {
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("cannot switch %s: %v", dir, err)
		}
		// Filesystems without RENAME_EXCHANGE: two renames, which Recover
		// can undo if a crash falls between them.
		if err := os.Rename(dir, retired(dir)); err != nil {
			return fmt.Errorf("cannot switch %s: %v", dir, err)
		}
		if err := os.Rename(st, dir); err != nil {
			return fmt.Errorf("cannot switch %s: %v", dir, err)
		}
	}
	if err := SyncDir(parent); err != nil {
		return err
	}
	Failpoint("switched")
	return Recover(dir, owner)
}

func writeNew(path string, data []byte, mode os.FileMode, owner Owner) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	defer f.Close()
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if owner.UID >= 0 {
		if err := f.Chown(owner.UID, owner.GID); err != nil {
			return fmt.Errorf("cannot write %s: %v", path, err)
		}
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	return f.Close()
}

func unchanged(path string, f File, owner Owner) bool {
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != f.Mode.Perm() {
		return false
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && owner.UID >= 0 && (int(sys.Uid) != owner.UID || int(sys.Gid) != owner.GID) {
		return false
	}
	old, err := os.ReadFile(path)
	return err == nil && bytes.Equal(old, f.Data)
}

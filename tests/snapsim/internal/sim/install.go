package sim

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/snapcore/snapd/overlord/configstate/config"
	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/runner"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/snapinfo"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/store"
)

// retain is refresh.retain's default on classic systems.
const retain = 2

// FirstLocalRevision is what snapd gives the first unasserted local install.
const FirstLocalRevision = "x1"

func parseRev(s string) (snap.Revision, error) {
	r, err := snap.ParseRevision(s)
	if err != nil {
		return snap.Revision{}, err
	}
	if r.Unset() {
		return snap.Revision{}, fmt.Errorf("invalid revision %q", s)
	}
	return r, nil
}

// nextRevision follows the sequence: x<N+1> after local revisions, N+1
// after store ones.
func nextRevision(sequence []string) string {
	maxLocal, maxStore := 0, 0
	for _, r := range sequence {
		rev, err := snap.ParseRevision(r)
		if err != nil {
			continue
		}
		if rev.Local() && -rev.N > maxLocal {
			maxLocal = -rev.N
		}
		if rev.Store() && rev.N > maxStore {
			maxStore = rev.N
		}
	}
	if len(sequence) > 0 {
		if cur, err := snap.ParseRevision(sequence[len(sequence)-1]); err == nil && cur.Store() {
			return strconv.Itoa(maxStore + 1)
		}
	}
	return "x" + strconv.Itoa(maxLocal+1)
}

func copyTree(src, dst string) error {
	if err := os.MkdirAll(dst, 0755); err != nil {
		return err
	}
	out, err := exec.Command("cp", "-a", "--", filepath.Clean(src)+"/.", dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot copy %s to %s: %v: %s", src, dst, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// makeReadOnly removes every write bit under dir (chmod -R a-w).
func makeReadOnly(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(path, fi.Mode().Perm()&^0222|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
	})
}

// removeTree deletes dir even when made read-only.
func removeTree(dir string) error {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if fi, err := d.Info(); err == nil {
				os.Chmod(path, fi.Mode().Perm()|0700)
			}
		}
		return nil
	})
	return os.RemoveAll(dir)
}

func relink(link, target string) error {
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

// homes lists the simulated homes that exist under the root.
func (s *Sim) homes() []string {
	out := []string{s.Root.HomeDir(0)}
	if entries, err := os.ReadDir(filepath.Join(s.Root.Dir, "home")); err == nil {
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, filepath.Join(s.Root.Dir, "home", e.Name()))
			}
		}
	}
	return out
}

func defaultServices(info *snap.Info, old map[string]*store.ServiceState) map[string]*store.ServiceState {
	out := make(map[string]*store.ServiceState)
	for _, app := range info.Services() {
		if prev, ok := old[app.Name]; ok && prev != nil {
			out[app.Name] = &store.ServiceState{Enabled: prev.Enabled}
			continue
		}
		out[app.Name] = &store.ServiceState{Enabled: app.InstallMode != "disable"}
	}
	return out
}

// Install is `snap install DIR` (a local, unasserted snap). Installing over
// an installed snap of the same name refreshes it, as snapd does.
func (s *Sim) Install(dir, revision string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()

	st := s.store.State()
	st.Lock()
	existing := store.Snap(st, "")
	st.Unlock()

	if existing != nil {
		return s.refresh(existing, dir, revision, "installed")
	}
	if revision == "" {
		revision = FirstLocalRevision
	}
	rev, err := parseRev(revision)
	if err != nil {
		return err
	}
	info, err := snapinfo.ReadDir(dir, rev)
	if err != nil {
		return err
	}
	name := info.InstanceName()
	revStr := rev.String()

	mountDir := s.Root.MountDir(name, revStr)
	undo := func() {
		s.stopSnapServices(info, false)
		removeTree(s.Root.SnapBaseDir(name))
		removeTree(s.Root.DataBaseDir(name))
		for _, home := range s.homes() {
			os.RemoveAll(filepath.Join(home, "snap", name))
		}
		os.Remove(s.Root.CookieFile(name))
		st.Lock()
		store.SetSnap(st, name, nil)
		config.DeleteSnapConfig(st, name)
		st.Unlock()
		store.SetHealth(s.Root, name, nil)
	}

	// mount-snap, copy-snap-data, link-snap
	if err := copyTree(dir, mountDir); err != nil {
		undo()
		return err
	}
	if err := makeReadOnly(mountDir); err != nil {
		undo()
		return err
	}
	for _, d := range []string{s.Root.DataDir(name, revStr), s.Root.CommonDir(name)} {
		if err := os.MkdirAll(d, 0755); err != nil {
			undo()
			return err
		}
	}
	if err := relink(s.Root.CurrentLink(name), revStr); err != nil {
		undo()
		return err
	}
	if err := relink(s.Root.DataCurrentLink(name), revStr); err != nil {
		undo()
		return err
	}
	if _, err := os.Stat(s.Root.CookieFile(name)); err != nil {
		if err := os.WriteFile(s.Root.CookieFile(name), []byte(newCookie()), 0600); err != nil {
			undo()
			return err
		}
	}
	st.Lock()
	store.SetSnap(st, name, &store.SnapState{
		Name:     name,
		Version:  info.Version,
		Current:  revStr,
		Sequence: []string{revStr},
		Services: defaultServices(info, nil),
	})
	st.Unlock()

	// run install hook, start-snap-services, run configure hook
	if err := s.hookStartConfigure(info, "install", name, revStr); err != nil {
		undo()
		return err
	}
	fmt.Fprintf(s.Stdout, "%s %s installed\n", name, info.Version)
	return nil
}

// Refresh is a refresh to the snap in DIR (snapd's local refresh).
func (s *Sim) Refresh(dir, revision string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	st := s.store.State()
	st.Lock()
	existing := store.Snap(st, "")
	st.Unlock()
	if existing == nil {
		return fmt.Errorf("no snap is installed in %s", s.Root.Dir)
	}
	return s.refresh(existing, dir, revision, "refreshed")
}

func (s *Sim) refresh(old *store.SnapState, dir, revision, verb string) error {
	st := s.store.State()
	oldInfo, err := s.currentInfo(old)
	if err != nil {
		return err
	}
	if revision == "" {
		revision = nextRevision(old.Sequence)
	}
	rev, err := parseRev(revision)
	if err != nil {
		return err
	}
	revStr := rev.String()
	for _, r := range old.Sequence {
		if r == revStr {
			return fmt.Errorf("snap %q revision %s is already installed", old.Name, revStr)
		}
	}
	info, err := snapinfo.ReadDir(dir, rev)
	if err != nil {
		return err
	}
	name := info.InstanceName()
	if name != old.Name {
		return fmt.Errorf("cannot refresh snap %q to a snap named %q", old.Name, name)
	}
	oldRev := old.Current

	// run pre-refresh hook (old revision)
	if _, err := s.runHookTask(oldInfo, &hookTask{
		hook:     "pre-refresh",
		summary:  fmt.Sprintf("Run pre-refresh hook of %q snap if present", name),
		optional: true,
	}); err != nil {
		return err
	}
	// stop-snap-services
	if err := s.stopSnapServices(oldInfo, true); err != nil {
		s.startSnapServices(oldInfo)
		return taskErr(fmt.Sprintf("Stop snap %q services", name), err)
	}

	switched := false
	undo := func() {
		s.stopSnapServices(info, false)
		if switched {
			relink(s.Root.CurrentLink(name), oldRev)
			relink(s.Root.DataCurrentLink(name), oldRev)
			for _, home := range s.homes() {
				cur := filepath.Join(home, "snap", name, "current")
				if _, err := os.Lstat(cur); err == nil {
					relink(cur, oldRev)
				}
			}
			st.Lock()
			store.SetSnap(st, name, old)
			st.Unlock()
		}
		removeTree(s.Root.MountDir(name, revStr))
		os.RemoveAll(s.Root.DataDir(name, revStr))
		for _, home := range s.homes() {
			os.RemoveAll(filepath.Join(home, "snap", name, revStr))
		}
		s.startSnapServices(oldInfo)
	}

	// mount-snap
	if err := copyTree(dir, s.Root.MountDir(name, revStr)); err != nil {
		undo()
		return err
	}
	if err := makeReadOnly(s.Root.MountDir(name, revStr)); err != nil {
		undo()
		return err
	}
	// copy-snap-data: $SNAP_DATA and each $SNAP_USER_DATA of the old revision
	summary := fmt.Sprintf("Copy snap %q data", name)
	os.RemoveAll(s.Root.DataDir(name, revStr))
	if err := copyTree(s.Root.DataDir(name, oldRev), s.Root.DataDir(name, revStr)); err != nil {
		undo()
		return taskErr(summary, err)
	}
	for _, home := range s.homes() {
		src := filepath.Join(home, "snap", name, oldRev)
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := copyTree(src, filepath.Join(home, "snap", name, revStr)); err != nil {
			undo()
			return taskErr(summary, err)
		}
	}
	// link-snap
	switched = true
	if err := relink(s.Root.CurrentLink(name), revStr); err != nil {
		undo()
		return err
	}
	if err := relink(s.Root.DataCurrentLink(name), revStr); err != nil {
		undo()
		return err
	}
	for _, home := range s.homes() {
		cur := filepath.Join(home, "snap", name, "current")
		if _, err := os.Lstat(cur); err == nil {
			relink(cur, revStr)
		}
	}
	seq := append(append([]string(nil), old.Sequence...), revStr)
	st.Lock()
	store.SetSnap(st, name, &store.SnapState{
		Name:     name,
		Version:  info.Version,
		Current:  revStr,
		Sequence: seq,
		Services: defaultServices(info, old.Services),
	})
	st.Unlock()

	// run post-refresh hook, start-snap-services, run configure hook
	if err := s.hookStartConfigure(info, "post-refresh", name, revStr); err != nil {
		undo()
		return err
	}

	// cleanup: keep the last `retain` revisions
	if len(seq) > retain {
		drop := seq[:len(seq)-retain]
		for _, r := range drop {
			removeTree(s.Root.MountDir(name, r))
			os.RemoveAll(s.Root.DataDir(name, r))
			for _, home := range s.homes() {
				os.RemoveAll(filepath.Join(home, "snap", name, r))
			}
		}
		st.Lock()
		if snapst := store.Snap(st, name); snapst != nil {
			snapst.Sequence = append([]string(nil), seq[len(seq)-retain:]...)
			store.SetSnap(st, name, snapst)
		}
		st.Unlock()
	}
	fmt.Fprintf(s.Stdout, "%s %s %s\n", name, info.Version, verb)
	return nil
}

func (s *Sim) currentInfo(snapst *store.SnapState) (*snap.Info, error) {
	rev, err := parseRev(snapst.Current)
	if err != nil {
		return nil, err
	}
	return snapinfo.ReadInstalled(s.Root.MountDir(snapst.Name, snapst.Current), rev)
}

// Remove is `snap remove NAME`.
func (s *Sim) Remove(name string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	snapst, info, err := s.installedSnap(name)
	if err != nil {
		return err
	}
	name = snapst.Name
	if err := s.stopSnapServices(info, false); err != nil {
		return taskErr(fmt.Sprintf("Stop snap %q services", name), err)
	}
	// the remove hook's errors are ignored (IgnoreError)
	s.runHookTask(info, &hookTask{
		hook:        "remove",
		summary:     fmt.Sprintf("Run remove hook of %q snap if present", name),
		optional:    true,
		ignoreError: true,
	})
	for _, app := range info.Services() {
		s.svc.Forget(name, app.Name)
	}
	removeTree(s.Root.SnapBaseDir(name))
	os.RemoveAll(s.Root.DataBaseDir(name))
	for _, home := range s.homes() {
		os.RemoveAll(filepath.Join(home, "snap", name))
	}
	os.RemoveAll(s.Root.XdgRuntimeDir(os.Geteuid(), name))
	os.Remove(s.Root.CookieFile(name))
	st := s.store.State()
	st.Lock()
	store.SetSnap(st, name, nil)
	config.DeleteSnapConfig(st, name)
	st.Unlock()
	store.SetHealth(s.Root, name, nil)
	fmt.Fprintf(s.Stdout, "%s removed\n", name)
	return nil
}

// hookStartConfigure runs the tasks snapd runs after linking a revision, in
// its order: the install or post-refresh hook, start-snap-services, the
// configure hook, then the service actions the configure hook queued.
func (s *Sim) hookStartConfigure(info *snap.Info, hook, name, revStr string) error {
	if _, err := s.runHookTask(info, &hookTask{
		hook:     hook,
		summary:  fmt.Sprintf("Run %s hook of %q snap if present", hook, name),
		optional: true,
	}); err != nil {
		return err
	}
	if err := s.startSnapServices(info); err != nil {
		return taskErr(fmt.Sprintf("Start snap %q (%s) services", name, revStr), err)
	}
	ctx, err := s.runHookTask(info, &hookTask{
		hook:     "configure",
		summary:  fmt.Sprintf("Run configure hook of %q snap if present", name),
		optional: true,
		timeout:  runner.ConfigureHookTimeout(),
	})
	if err != nil {
		return err
	}
	return s.runQueued(info, ctx)
}

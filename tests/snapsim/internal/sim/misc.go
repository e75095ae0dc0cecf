package sim

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/runner"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/services"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/store"
)

// findApp resolves `snap run` targets: "<snap>.<app>", "<snap>" (the app
// named like the snap), or, as a snapsim convenience, a bare app name.
func findApp(info *snap.Info, spec string) (*snap.AppInfo, error) {
	snapName, appName := snap.SplitSnapApp(spec)
	if snapName != info.InstanceName() && !strings.Contains(spec, ".") {
		appName = spec
	} else if snapName != info.InstanceName() {
		return nil, fmt.Errorf("cannot find app %q in %q", appName, snapName)
	}
	app := info.Apps[appName]
	if app == nil {
		return nil, fmt.Errorf("cannot find app %q in %q", appName, info.InstanceName())
	}
	return app, nil
}

// Command returns the command line and environment `snap run spec args` execs.
func (s *Sim) Command(spec string, args []string) ([]string, []string, error) {
	if err := s.readOnly(); err != nil {
		return nil, nil, err
	}
	defer s.unlock()
	_, info, err := s.installedSnap("")
	if err != nil {
		return nil, nil, err
	}
	app, err := findApp(info, spec)
	if err != nil {
		return nil, nil, err
	}
	if err := s.ensureShim(); err != nil {
		return nil, nil, err
	}
	rctx := s.runCtx(info)
	if err := rctx.EnsureUserDirs(); err != nil {
		return nil, nil, err
	}
	env := rctx.AppEnv(app, runner.OSEnv(), services.ReadCookie(s.Root, info.InstanceName()))
	argv, err := rctx.AppCommand(app, "", env, args)
	if err != nil {
		return nil, nil, err
	}
	return argv, env.ForExec(), nil
}

// Run is `snap run APP ARGS`: it replaces the process with the app.
func (s *Sim) Run(spec string, args []string) error {
	argv, env, err := s.Command(spec, args)
	if err != nil {
		return err
	}
	if err := syscall.Exec(argv[0], argv, env); err != nil {
		return fmt.Errorf("cannot exec %q: %s", argv[0], err)
	}
	return nil
}

// List is `snap list`.
func (s *Sim) List() error {
	if err := s.readOnly(); err != nil {
		return err
	}
	defer s.unlock()
	st := s.store.State()
	st.Lock()
	snaps := store.Snaps(st)
	st.Unlock()
	if len(snaps) == 0 {
		fmt.Fprintln(s.Stderr, "No snaps are installed yet. Try 'snap install hello-world'.")
		return nil
	}
	names := make([]string, 0, len(snaps))
	for n := range snaps {
		names = append(names, n)
	}
	sort.Strings(names)
	w := tabwriter.NewWriter(s.Stdout, 5, 3, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintln(w, "Name\tVersion\tRev\tTracking\tPublisher\tNotes")
	for _, n := range names {
		sn := snaps[n]
		fmt.Fprintf(w, "%s\t%s\t%s\t-\t-\t-\n", sn.Name, sn.Version, sn.Current)
	}
	return nil
}

// Health prints the snap's health as `snap info --verbose` does.
func (s *Sim) Health() error {
	if err := s.readOnly(); err != nil {
		return err
	}
	defer s.unlock()
	_, info, err := s.installedSnap("")
	if err != nil {
		return err
	}
	all, err := store.ReadHealth(s.Root)
	if err != nil {
		return err
	}
	h := all[info.InstanceName()]
	if h == nil {
		h = &store.Health{Status: "unknown", Message: "health has not been set"}
	}
	w := tabwriter.NewWriter(s.Stdout, 2, 2, 1, ' ', 0)
	defer w.Flush()
	fmt.Fprintln(w, "health:")
	fmt.Fprintf(w, "  status:\t%s\n", h.Status)
	if h.Message != "" {
		fmt.Fprintf(w, "  message:\t%s\n", h.Message)
	}
	if h.Code != "" {
		fmt.Fprintf(w, "  code:\t%s\n", h.Code)
	}
	if !h.Timestamp.IsZero() {
		fmt.Fprintf(w, "  checked:\t%s\n", h.Timestamp.Format(time.RFC3339))
	}
	if h.Revision != "" {
		fmt.Fprintf(w, "  revision:\t%s\n", h.Revision)
	}
	return nil
}

package sim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/snapcore/snapd/client"
	"github.com/snapcore/snapd/client/clientutil"
	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/ctl"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/runner"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/services"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/store"
)

// serviceSummary is servicestate's summary of a service-control task.
func serviceSummary(info *snap.Info, inst *ctl.Instruction) string {
	snapName := info.InstanceName()
	var explicit []string
	for _, n := range inst.Names {
		if strings.HasPrefix(n, snapName+".") {
			explicit = append(explicit, n[len(snapName)+1:])
		}
	}
	sort.Strings(explicit)
	action := inst.Action
	if action == "restart" && inst.Reload {
		action = "reload-or-restart"
	}
	if len(explicit) > 0 {
		return fmt.Sprintf("Run service command %q for services %q of snap %q", action, explicit, snapName)
	}
	if inst.Action == "restart" {
		return fmt.Sprintf("Run service command %q for running services of snap %q", action, snapName)
	}
	var all []string
	for _, app := range info.Services() {
		all = append(all, app.Name)
	}
	sort.Strings(all)
	return fmt.Sprintf("Run service command %q for services %q of snap %q", action, all, snapName)
}

func (s *Sim) enabled(snapName, app string) bool {
	st := s.store.State()
	st.Lock()
	defer st.Unlock()
	snapst := store.Snap(st, snapName)
	if snapst == nil || snapst.Services[app] == nil {
		return false
	}
	return snapst.Services[app].Enabled
}

func (s *Sim) setEnabled(snapName string, apps []*snap.AppInfo, enabled bool) {
	st := s.store.State()
	st.Lock()
	defer st.Unlock()
	snapst := store.Snap(st, snapName)
	if snapst == nil {
		return
	}
	if snapst.Services == nil {
		snapst.Services = make(map[string]*store.ServiceState)
	}
	for _, app := range apps {
		snapst.Services[app.Name] = &store.ServiceState{Enabled: enabled}
	}
	store.SetSnap(st, snapName, snapst)
}

// serviceControl runs a service command (servicestate's service-control
// task). The root lock must be held.
func (s *Sim) serviceControl(info *snap.Info, inst *ctl.Instruction) error {
	apps, err := ctl.ServiceInfos(info, inst.Names)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		return nil
	}
	explicit := make(map[string]bool)
	for _, n := range inst.Names {
		if strings.HasPrefix(n, info.InstanceName()+".") {
			explicit[n[len(info.InstanceName())+1:]] = true
		}
	}
	if err := s.ensureShim(); err != nil {
		return err
	}
	snapName := info.InstanceName()
	switch inst.Action {
	case "start":
		ordered, err := snap.SortServices(apps)
		if err != nil {
			return err
		}
		if inst.Enable {
			s.setEnabled(snapName, ordered, true)
		}
		for _, app := range ordered {
			if err := s.svc.Start(snapName, app); err != nil {
				return err
			}
		}
	case "stop":
		for i := len(apps) - 1; i >= 0; i-- {
			if err := s.svc.Stop(snapName, apps[i]); err != nil {
				return err
			}
		}
		if inst.Disable {
			s.setEnabled(snapName, apps, false)
		}
	case "restart":
		ordered, err := snap.SortServices(apps)
		if err != nil {
			return err
		}
		for _, app := range ordered {
			active := s.svc.Active(snapName, app.Name)
			// wrappers.restartServicesByStatus with AlsoEnabledNonActive
			if !active && !explicit[app.Name] && !s.enabled(snapName, app.Name) {
				continue
			}
			if inst.Reload && active && app.ReloadCommand != "" {
				if err := s.reload(info, app); err != nil {
					return err
				}
				continue
			}
			if err := s.svc.Stop(snapName, app); err != nil {
				return err
			}
			if err := s.svc.Start(snapName, app); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown action %q", inst.Action)
	}
	return nil
}

// reload runs the app's reload-command (ExecReload) and waits for it.
func (s *Sim) reload(info *snap.Info, app *snap.AppInfo) error {
	rctx := s.runCtx(info)
	env := rctx.AppEnv(app, runner.SystemEnv(), services.ReadCookie(s.Root, info.InstanceName()))
	rt := s.svc.Status(info.InstanceName(), app.Name)
	env["MAINPID"] = strconv.Itoa(rt.MainPID)
	argv, err := rctx.AppCommand(app, "reload", env, nil)
	if err != nil {
		return err
	}
	out, err := runner.RunHook(argv, env, services.StopTimeout(app))
	if err != nil {
		return fmt.Errorf("reload of %s.%s failed: %v", info.InstanceName(), app.Name, bytes.TrimSpace(out))
	}
	return nil
}

// startSnapServices is the start-snap-services task: every enabled service.
func (s *Sim) startSnapServices(info *snap.Info) error {
	var apps []*snap.AppInfo
	for _, app := range info.Services() {
		if s.enabled(info.InstanceName(), app.Name) {
			apps = append(apps, app)
		}
	}
	ordered, err := snap.SortServices(apps)
	if err != nil {
		return err
	}
	if len(ordered) > 0 {
		if err := s.ensureShim(); err != nil {
			return err
		}
	}
	for _, app := range ordered {
		if err := s.svc.Start(info.InstanceName(), app); err != nil {
			return err
		}
	}
	return nil
}

// stopSnapServices is the stop-snap-services task; for a refresh, services
// with refresh-mode: endure keep running.
func (s *Sim) stopSnapServices(info *snap.Info, forRefresh bool) error {
	apps := info.Services()
	for i := len(apps) - 1; i >= 0; i-- {
		app := apps[i]
		if forRefresh && app.RefreshMode == "endure" {
			continue
		}
		if err := s.svc.Stop(info.InstanceName(), app); err != nil {
			return err
		}
	}
	return nil
}

// appInfos is the status decorator: client.AppInfo for each app.
func (s *Sim) appInfos(apps []*snap.AppInfo) []client.AppInfo {
	out := make([]client.AppInfo, 0, len(apps))
	for _, app := range apps {
		ai := client.AppInfo{
			Snap:        app.Snap.InstanceName(),
			Name:        app.Name,
			Daemon:      app.Daemon,
			DaemonScope: app.DaemonScope,
		}
		if app.IsService() {
			ai.Enabled = s.enabled(app.Snap.InstanceName(), app.Name)
			ai.Active = s.svc.Active(app.Snap.InstanceName(), app.Name)
			if app.Timer != nil {
				ai.Activators = append(ai.Activators, client.AppActivator{Name: app.Name, Type: "timer"})
			}
			for name := range app.Sockets {
				ai.Activators = append(ai.Activators, client.AppActivator{Name: name, Type: "socket"})
			}
			if len(app.ActivatesOn) > 0 {
				ai.Activators = append(ai.Activators, client.AppActivator{Name: app.Name, Type: "dbus"})
			}
		}
		out = append(out, ai)
	}
	return out
}

// resolveServices resolves `snap start/stop/restart/services/logs` names
// (daemon's appInfosFor): "<snap>" for all its services or "<snap>.<app>".
func resolveServices(info *snap.Info, names []string) ([]*snap.AppInfo, error) {
	snapName := info.InstanceName()
	if len(names) == 0 {
		svcs := info.Services()
		sort.Sort(snap.AppInfoBySnapApp(svcs))
		return svcs, nil
	}
	seen := make(map[string]bool)
	var out []*snap.AppInfo
	add := func(app *snap.AppInfo) {
		if !seen[app.Name] {
			seen[app.Name] = true
			out = append(out, app)
		}
	}
	for _, name := range names {
		sn, appName := name, ""
		if i := strings.IndexByte(name, '.'); i >= 0 {
			sn, appName = name[:i], name[i+1:]
		}
		if sn != snapName {
			return nil, fmt.Errorf("snap %q not found", sn)
		}
		if appName == "" {
			svcs := info.Services()
			if len(svcs) == 0 {
				return nil, fmt.Errorf("snap %q has no services", snapName)
			}
			for _, app := range svcs {
				add(app)
			}
			continue
		}
		app := info.Apps[appName]
		if app == nil || !app.IsService() {
			return nil, fmt.Errorf("snap %q has no service %q", snapName, appName)
		}
		add(app)
	}
	sort.Sort(snap.AppInfoBySnapApp(out))
	return out, nil
}

// ServiceCommand is `snap start|stop|restart [--enable|--disable|--reload] NAMES`.
func (s *Sim) ServiceCommand(inst *ctl.Instruction, quiet bool) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	_, info, err := s.installedSnap("")
	if err != nil {
		return err
	}
	apps, err := resolveServices(info, inst.Names)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		return nil
	}
	// names are "<snap>" or "<snap>.<app>", as the service-control task takes them
	task := *inst
	if err := s.serviceControl(info, &task); err != nil {
		return taskErr(serviceSummary(info, &task), err)
	}
	if quiet {
		return nil
	}
	switch inst.Action {
	case "start":
		fmt.Fprintln(s.Stdout, "Started.")
	case "stop":
		fmt.Fprintln(s.Stdout, "Stopped.")
	case "restart":
		fmt.Fprintln(s.Stdout, "Restarted.")
	}
	return nil
}

// readOnly loads the committed state without locking.
func (s *Sim) readOnly() error {
	st, err := store.ReadOnlyStore(s.Root)
	if err != nil {
		return err
	}
	s.store = st
	return nil
}

// Services is `snap services [NAMES]`.
func (s *Sim) Services(names []string, global, user bool) error {
	if global && user {
		return errors.New("cannot combine --global and --user switches.")
	}
	if err := s.readOnly(); err != nil {
		return err
	}
	defer s.unlock()
	_, info, err := s.installedSnap("")
	if err != nil {
		fmt.Fprintln(s.Stderr, "There are no services provided by installed snaps.")
		return nil
	}
	apps, err := resolveServices(info, names)
	if err != nil {
		return err
	}
	if len(apps) == 0 {
		fmt.Fprintln(s.Stderr, "There are no services provided by installed snaps.")
		return nil
	}
	isGlobal := (os.Getuid() == 0 && !user) || (os.Getuid() != 0 && global)
	w := tabwriter.NewWriter(s.Stdout, 5, 3, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintln(w, "Service\tStartup\tCurrent\tNotes")
	for _, svc := range s.appInfos(apps) {
		fmt.Fprintln(w, clientutil.FmtServiceStatus(&svc, isGlobal))
	}
	return nil
}

// Logs prints the last n lines (n < 0: all) of the named services' logs.
func (s *Sim) Logs(names []string, n int) error {
	if err := s.readOnly(); err != nil {
		return err
	}
	defer s.unlock()
	_, info, err := s.installedSnap("")
	if err != nil {
		return err
	}
	apps, err := resolveServices(info, names)
	if err != nil {
		return err
	}
	for _, app := range apps {
		if err := tail(s.Stdout, s.Root.ServiceLog(info.InstanceName(), app.Name), n); err != nil {
			return err
		}
	}
	return nil
}

func tail(w interface{ Write([]byte) (int, error) }, path string, n int) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if n >= 0 && len(lines) > n {
			lines = lines[1:]
		}
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	return sc.Err()
}

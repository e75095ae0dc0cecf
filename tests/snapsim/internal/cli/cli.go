// Package cli is snapsim's command line: the `snap`-like verbs, snapctl
// (when invoked as "snapctl"), and the hidden verbs snapsim re-executes
// itself with.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jessevdk/go-flags"
	"golang.org/x/term"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/ctl"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/services"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/sim"
)

// RootEnv names the environment variable that selects the unit root.
const RootEnv = "SNAPSIM_ROOT"

// IO is where a command reads and writes.
type IO struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Main runs snapsim with args (args[0] is the program name) and returns the
// exit code. Invoked as "snapctl" it is snapctl.
func Main(args []string, stdio IO) int {
	if filepath.Base(args[0]) == "snapctl" {
		return snapctlMain(args[1:], stdio)
	}
	root, rest, err := globalOptions(args[1:])
	if err != nil {
		return fail(stdio, err, 64)
	}
	if len(rest) == 0 {
		fmt.Fprint(stdio.Stdout, usage)
		return 0
	}
	verb, vargs := rest[0], rest[1:]
	switch verb {
	case services.SuperviseVerb:
		return superviseMain(vargs, stdio)
	case sim.ServiceHelperVerb:
		return serviceHelperMain(vargs, stdio)
	case "run":
		return runMain(root, vargs, stdio)
	case "snapctl":
		s, err := newSim(root, stdio)
		if err != nil {
			return fail(stdio, err, 1)
		}
		resp := s.Snapctl("", true, vargs, uint32(os.Getuid()))
		return resp.Render(stdio.Stdout, stdio.Stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdio.Stdout, usage)
		return 0
	}
	return parseAndRun(root, rest, stdio)
}

const usage = `Usage: snapsim [--root DIR] <command> [<options>...]

A local stand-in for snapd: one root directory (--root or $SNAPSIM_ROOT) is
one machine with one snap installed.

Commands:
  install [--revision=R] DIR   install the primed snap tree DIR (refreshes if installed)
  refresh [--revision=R] DIR   refresh to the snap tree DIR
  remove [SNAP]                remove the snap
  set [-t|-s] [SNAP] KEY=VALUE|KEY!...
  unset [SNAP] KEY...
  get [-d|-l|-t] [SNAP] [KEY...]
  start [--enable] NAME...     NAME is <snap> or <snap>.<app>
  stop [--disable] NAME...
  restart [--reload] NAME...
  services [NAME...]
  logs [-n=N|all] NAME...
  run APP [ARGS...]
  snapctl ARGS...              snapctl in the snap's (ephemeral) context
  list                         installed snap, as snap list
  health                       the health set with snapctl set-health
`

func fail(stdio IO, err error, code int) int {
	fmt.Fprintf(stdio.Stderr, "error: %v\n", err)
	return code
}

// globalOptions takes --root DIR / --root=DIR before the verb.
func globalOptions(args []string) (root string, rest []string, err error) {
	root = os.Getenv(RootEnv)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--root":
			if i+1 >= len(args) {
				return "", nil, errors.New("expected argument for flag `--root'")
			}
			root = args[i+1]
			i++
		case strings.HasPrefix(a, "--root="):
			root = strings.TrimPrefix(a, "--root=")
		default:
			return root, args[i:], nil
		}
	}
	return root, nil, nil
}

func self() string {
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		return real
	}
	return exe
}

func newSim(rootDir string, stdio IO) (*sim.Sim, error) {
	root, err := layout.New(rootDir)
	if err != nil {
		return nil, err
	}
	return sim.New(root, self(), stdio.Stdout, stdio.Stderr), nil
}

func superviseMain(args []string, stdio IO) int {
	rootDir, rest, err := globalOptions(args)
	if err != nil || len(rest) != 1 {
		return fail(stdio, fmt.Errorf("usage: %s --root DIR SNAP.APP", services.SuperviseVerb), 64)
	}
	root, err := layout.New(rootDir)
	if err != nil {
		return fail(stdio, err, 1)
	}
	ready := os.NewFile(3, "ready")
	if err := services.Supervise(root, rest[0], ready); err != nil {
		return fail(stdio, err, 1)
	}
	return 0
}

func serviceHelperMain(args []string, stdio IO) int {
	rootDir, rest, err := globalOptions(args)
	if err != nil || len(rest) != 1 {
		return fail(stdio, fmt.Errorf("usage: %s --root DIR INSTRUCTION", sim.ServiceHelperVerb), 64)
	}
	s, err := newSim(rootDir, IO{Stdout: io.Discard, Stderr: stdio.Stderr})
	if err != nil {
		return fail(stdio, err, 1)
	}
	if err := s.ServiceHelper(rest[0]); err != nil {
		return fail(stdio, err, 1)
	}
	return 0
}

func runMain(rootDir string, args []string, stdio IO) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return fail(stdio, errors.New("the required argument `<app name>` was not provided"), 64)
	}
	s, err := newSim(rootDir, stdio)
	if err != nil {
		return fail(stdio, err, 1)
	}
	if err := s.Run(args[0], args[1:]); err != nil {
		return fail(stdio, err, 1)
	}
	return 0
}

// snapctlMain is snapctl: inside a hook it talks to the hook's context;
// otherwise it acts in the snap's ephemeral context (found through $SNAP).
func snapctlMain(args []string, stdio IO) int {
	cookie := os.Getenv("SNAP_COOKIE")
	if cookie == "" {
		cookie = os.Getenv("SNAP_CONTEXT")
	}
	if cookie != "" {
		if resp, err := ctl.Call(cookie, args); err == nil {
			return resp.Render(stdio.Stdout, stdio.Stderr)
		}
	}
	var root layout.Root
	var err error
	if snapDir := os.Getenv("SNAP"); snapDir != "" {
		root, err = layout.FromSnapDir(snapDir)
	} else {
		root, err = layout.New(os.Getenv(RootEnv))
	}
	if err != nil {
		// no snap to act for: no context
		resp := ctl.Result(ctl.Run(nil, args, 0))
		if len(args) == 0 {
			resp = &ctl.Response{Error: "snapctl cannot run without args"}
		}
		return resp.Render(stdio.Stdout, stdio.Stderr)
	}
	s := sim.New(root, self(), stdio.Stdout, stdio.Stderr)
	resp := s.Snapctl(cookie, false, args, uint32(os.Getuid()))
	return resp.Render(stdio.Stdout, stdio.Stderr)
}

type command struct {
	root  string
	stdio IO
}

func (c *command) sim() (*sim.Sim, error) { return newSim(c.root, c.stdio) }

type cmdInstall struct {
	*command
	Revision   string `long:"revision" description:"install as this revision (default x1, as snapd's first local install)"`
	Dangerous  bool   `long:"dangerous" description:"accepted for compatibility with snap install"`
	Positional struct {
		Dir string `positional-arg-name:"<dir>" required:"yes"`
	} `positional-args:"yes" required:"yes"`
}

func (x *cmdInstall) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.Install(x.Positional.Dir, x.Revision)
}

type cmdRefresh struct {
	*command
	Revision   string `long:"revision" description:"refresh to this revision (default: the next one)"`
	Dangerous  bool   `long:"dangerous" description:"accepted for compatibility with snap refresh"`
	Positional struct {
		Dir string `positional-arg-name:"<dir>" required:"yes"`
	} `positional-args:"yes" required:"yes"`
}

func (x *cmdRefresh) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.Refresh(x.Positional.Dir, x.Revision)
}

type cmdRemove struct {
	*command
	Purge      bool `long:"purge" description:"accepted for compatibility with snap remove"`
	Positional struct {
		Snap string `positional-arg-name:"<snap>"`
	} `positional-args:"yes"`
}

func (x *cmdRemove) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.Remove(x.Positional.Snap)
}

// splitSnapName takes the optional leading snap name off set/unset/get
// arguments (`snap set SNAP k=v` and `snapsim set k=v` both work).
func splitSnapName(root string, args []string, isName func(string) bool) (string, []string) {
	if len(args) == 0 {
		return "", args
	}
	r, err := layout.New(root)
	if err != nil {
		return "", args
	}
	installed := sim.InstalledName(r)
	if isName(args[0]) && (installed == "" || args[0] == installed || !strings.ContainsAny(args[0], "=!")) {
		return args[0], args[1:]
	}
	return "", args
}

type cmdSet struct {
	*command
	Typed      bool `short:"t" description:"Parse the value strictly as JSON document"`
	String     bool `short:"s" description:"Parse the value as a string"`
	Positional struct {
		ConfValues []string `positional-arg-name:"<conf value>" required:"1"`
	} `positional-args:"yes" required:"yes"`
}

func (x *cmdSet) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	name, values := splitSnapName(x.root, x.Positional.ConfValues, func(a string) bool {
		return !strings.Contains(a, "=") && !strings.HasSuffix(a, "!")
	})
	if len(values) == 0 {
		// snap's own parser refuses it: a usage error, exit 64
		return &flags.Error{Type: flags.ErrRequired, Message: "the required argument `<conf value> (at least 1 argument)` was not provided"}
	}
	return s.Set(name, values, x.Typed, x.String)
}

type cmdUnset struct {
	*command
	Positional struct {
		ConfKeys []string `positional-arg-name:"<conf key>" required:"1"`
	} `positional-args:"yes" required:"yes"`
}

func (x *cmdUnset) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	name, keys := "", x.Positional.ConfKeys
	if len(keys) > 1 {
		name, keys = splitSnapName(x.root, keys, func(a string) bool {
			r, err := layout.New(x.root)
			return err == nil && a == sim.InstalledName(r)
		})
	}
	return s.Unset(name, keys)
}

type cmdGet struct {
	*command
	Typed      bool `short:"t" description:"Strict typing with nulls and quoted strings"`
	Document   bool `short:"d" description:"Always return document, even with single key"`
	List       bool `short:"l" description:"Always return list, even with single key"`
	Positional struct {
		Keys []string `positional-arg-name:"<key>"`
	} `positional-args:"yes"`
}

func (x *cmdGet) Execute(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("too many arguments: %s", strings.Join(args, " "))
	}
	s, err := x.sim()
	if err != nil {
		return err
	}
	name, keys := splitSnapName(x.root, x.Positional.Keys, func(a string) bool {
		r, err := layout.New(x.root)
		return err == nil && a == sim.InstalledName(r)
	})
	return s.Get(name, keys, sim.GetOptions{
		Document: x.Document,
		List:     x.List,
		Typed:    x.Typed,
		StdinTTY: term.IsTerminal(0),
	})
}

type cmdStart struct {
	*command
	Enable     bool `long:"enable" description:"As well as starting the service now, arrange for it to be started on boot."`
	Positional struct {
		ServiceNames []string `positional-arg-name:"<service>" required:"1"`
	} `positional-args:"yes" required:"yes"`
}

func (x *cmdStart) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.ServiceCommand(&ctl.Instruction{Action: "start", Names: x.Positional.ServiceNames, Enable: x.Enable}, false)
}

type cmdStop struct {
	*command
	Disable    bool `long:"disable" description:"As well as stopping the service now, arrange for it to no longer be started on boot."`
	Positional struct {
		ServiceNames []string `positional-arg-name:"<service>" required:"1"`
	} `positional-args:"yes" required:"yes"`
}

func (x *cmdStop) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.ServiceCommand(&ctl.Instruction{Action: "stop", Names: x.Positional.ServiceNames, Disable: x.Disable}, false)
}

type cmdRestart struct {
	*command
	Reload     bool `long:"reload" description:"If the service has a reload command, use it instead of restarting."`
	Positional struct {
		ServiceNames []string `positional-arg-name:"<service>" required:"1"`
	} `positional-args:"yes" required:"yes"`
}

func (x *cmdRestart) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.ServiceCommand(&ctl.Instruction{Action: "restart", Names: x.Positional.ServiceNames, Reload: x.Reload}, false)
}

type cmdServices struct {
	*command
	Global     bool `long:"global" short:"g" description:"Show the global enable status for user services instead of the status for the current user."`
	User       bool `long:"user" short:"u" description:"Show the current status of the user services instead of the global enable status."`
	Positional struct {
		ServiceNames []string `positional-arg-name:"<service>"`
	} `positional-args:"yes"`
}

func (x *cmdServices) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.Services(x.Positional.ServiceNames, x.Global, x.User)
}

type cmdLogs struct {
	*command
	N          string `short:"n" default:"10" description:"Show only the given number of lines, or 'all'."`
	Positional struct {
		ServiceNames []string `positional-arg-name:"<service>" required:"1"`
	} `positional-args:"yes" required:"yes"`
}

func (x *cmdLogs) Execute(args []string) error {
	n := -1
	if x.N != "all" {
		v, err := strconv.ParseInt(x.N, 0, 32)
		if v < 0 || err != nil {
			return errors.New("invalid argument for flag ‘-n’: expected a non-negative integer argument, or “all”.")
		}
		n = int(v)
	}
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.Logs(x.Positional.ServiceNames, n)
}

type cmdList struct{ *command }

func (x *cmdList) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.List()
}

type cmdHealth struct{ *command }

func (x *cmdHealth) Execute(args []string) error {
	s, err := x.sim()
	if err != nil {
		return err
	}
	return s.Health()
}

func parseAndRun(root string, args []string, stdio IO) int {
	c := &command{root: root, stdio: stdio}
	parser := flags.NewNamedParser("snapsim", flags.HelpFlag|flags.PassDoubleDash)
	add := func(name, short string, data interface{}) {
		if _, err := parser.AddCommand(name, short, "", data); err != nil {
			panic(err)
		}
	}
	add("install", "Install a snap from a primed directory", &cmdInstall{command: c})
	add("refresh", "Refresh the snap to a primed directory", &cmdRefresh{command: c})
	add("remove", "Remove the snap", &cmdRemove{command: c})
	add("set", "Change configuration options", &cmdSet{command: c})
	add("unset", "Remove configuration options", &cmdUnset{command: c})
	add("get", "Print configuration options", &cmdGet{command: c})
	add("start", "Start services", &cmdStart{command: c})
	add("stop", "Stop services", &cmdStop{command: c})
	add("restart", "Restart services", &cmdRestart{command: c})
	add("services", "Query the status of services", &cmdServices{command: c})
	add("logs", "Retrieve logs for services", &cmdLogs{command: c})
	add("list", "List installed snaps", &cmdList{command: c})
	add("health", "Show the snap's health", &cmdHealth{command: c})

	if _, err := parser.ParseArgs(args); err != nil {
		var ferr *flags.Error
		if errors.As(err, &ferr) {
			switch ferr.Type {
			case flags.ErrHelp:
				fmt.Fprintln(stdio.Stdout, ferr.Message)
				return 0
			case flags.ErrUnknownCommand:
				return fail(stdio, fmt.Errorf("unknown command %q, see 'snapsim help'.", args[0]), 64)
			}
			return fail(stdio, err, 64)
		}
		return fail(stdio, err, 1)
	}
	return 0
}

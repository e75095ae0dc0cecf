// Package ctl is snapsim's snapctl: the command set of snapd's
// overlord/hookstate/ctlcmd (get, set, unset, start, stop, restart, services,
// set-health) with snapd's parsing, checks, messages and output formats,
// acting on a Context (snapd's hookstate.Context).
package ctl

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/jessevdk/go-flags"
	"github.com/snapcore/snapd/client"
	"github.com/snapcore/snapd/overlord/configstate/config"
	"github.com/snapcore/snapd/snap"
	"github.com/snapcore/snapd/strutil"
)

// Instruction is a service command (snapd's servicestate.Instruction).
type Instruction struct {
	Action  string // "start", "stop" or "restart"
	Names   []string
	Enable  bool
	Disable bool
	Reload  bool
}

// Health is what set-health asks to record.
type Health struct {
	Status  string
	Message string
	Code    string
}

// Context is what the commands act on: a running hook of the snap, or an
// ephemeral context (snapctl run by an app or daemon).
type Context interface {
	InstanceName() string
	// HookName is "" for an ephemeral context.
	HookName() string
	Info() *snap.Info
	// Transaction is the context's config transaction; it is committed
	// when the context is done (when the hook succeeds).
	Transaction() *config.Transaction
	// ServiceControl runs (or, from the configure hook, queues) a service command.
	ServiceControl(inst *Instruction) error
	// ServiceStatus returns the status of apps (all services).
	ServiceStatus(apps []*snap.AppInfo, global bool) ([]client.AppInfo, error)
	// SetHealth records the health when the context is done.
	SetHealth(h *Health) error
}

// MissingContextError is ctlcmd.MissingContextError.
type MissingContextError struct {
	subcommand string
}

func (e *MissingContextError) Error() string {
	return fmt.Sprintf(`cannot invoke snapctl operation commands (here %q) from outside of a snap`, e.subcommand)
}

// ForbiddenCommandError is ctlcmd.ForbiddenCommandError.
type ForbiddenCommandError struct {
	Message string
}

func (f ForbiddenCommandError) Error() string { return f.Message }

type baseCommand struct {
	stdout io.Writer
	stderr io.Writer
	c      Context
	name   string
	uid    string
}

func (c *baseCommand) setName(name string)        { c.name = name }
func (c *baseCommand) setUid(uid uint32)          { c.uid = strconv.FormatUint(uint64(uid), 10) }
func (c *baseCommand) setStdout(w io.Writer)      { c.stdout = w }
func (c *baseCommand) setStderr(w io.Writer)      { c.stderr = w }
func (c *baseCommand) setContext(context Context) { c.c = context }
func (c *baseCommand) context() Context           { return c.c }

func (c *baseCommand) printf(format string, a ...interface{}) {
	if c.stdout != nil {
		fmt.Fprintf(c.stdout, format, a...)
	}
}

func (c *baseCommand) ensureContext() (Context, error) {
	if c.c == nil {
		return nil, &MissingContextError{c.name}
	}
	return c.c, nil
}

type command interface {
	setName(name string)
	setUid(uid uint32)
	setStdout(w io.Writer)
	setStderr(w io.Writer)
	setContext(context Context)
	Execute(args []string) error
}

type commandInfo struct {
	shortHelp string
	longHelp  string
	generator func() command
}

var commands = make(map[string]*commandInfo)

func addCommand(name, shortHelp, longHelp string, generator func() command) {
	commands[name] = &commandInfo{shortHelp: shortHelp, longHelp: longHelp, generator: generator}
}

// nonRootAllowed are the commands a non-root user may run (ctlcmd's list).
var nonRootAllowed = []string{"get", "services", "set-health", "is-connected", "system-mode", "model"}

func isAllowedToRun(uid uint32, args []string) bool {
	if uid == 0 {
		return true
	}
	for idx, arg := range args {
		if idx == 0 && strutil.ListContains(nonRootAllowed, arg) {
			return true
		}
		if arg == "-h" || arg == "--help" {
			return true
		}
		if arg == "--" {
			break
		}
	}
	return false
}

// Run runs a snapctl command line (without "snapctl") in context, which may
// be nil (no context: most commands then fail as snapd's do). uid is the
// caller's uid as snapd would see it (snapsim passes 0 for the unit's owner).
func Run(context Context, args []string, uid uint32) (stdout, stderr []byte, err error) {
	if len(args) == 0 {
		return nil, nil, fmt.Errorf("internal error: snapctl cannot run without args")
	}
	if !isAllowedToRun(uid, args) {
		return nil, nil, &ForbiddenCommandError{Message: fmt.Sprintf("cannot use %q with uid %d, try with sudo", args[0], uid)}
	}
	parser := flags.NewNamedParser("snapctl", flags.PassDoubleDash|flags.HelpFlag)
	var stdoutBuffer, stderrBuffer bytes.Buffer
	for name, cmdInfo := range commands {
		cmd := cmdInfo.generator()
		cmd.setName(name)
		cmd.setUid(uid)
		cmd.setStdout(&stdoutBuffer)
		cmd.setStderr(&stderrBuffer)
		cmd.setContext(context)
		if _, err := parser.AddCommand(name, cmdInfo.shortHelp, cmdInfo.longHelp, cmd); err != nil {
			panic(fmt.Sprintf("cannot add command %q: %s", name, err))
		}
	}
	_, err = parser.ParseArgs(args)
	return stdoutBuffer.Bytes(), stderrBuffer.Bytes(), err
}

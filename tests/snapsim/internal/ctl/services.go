package ctl

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/snapcore/snapd/client/clientutil"
	"github.com/snapcore/snapd/snap"
)

// ServiceInfos resolves service names as ctlcmd's getServiceInfos does:
// none or the snap's name mean every service, otherwise "<snap>.<app>".
func ServiceInfos(info *snap.Info, serviceNames []string) ([]*snap.AppInfo, error) {
	snapName := info.InstanceName()
	if len(serviceNames) == 0 {
		return info.Services(), nil
	}
	var svcs []*snap.AppInfo
	for _, svcName := range serviceNames {
		if svcName == snapName {
			return info.Services(), nil
		}
		if !strings.HasPrefix(svcName, snapName+".") {
			return nil, fmt.Errorf("unknown service: %q", svcName)
		}
		app, ok := info.Apps[svcName[1+len(snapName):]]
		if !(ok && app.IsService()) {
			return nil, fmt.Errorf("unknown service: %q", svcName)
		}
		svcs = append(svcs, app)
	}
	return svcs, nil
}

func runServiceCommand(context Context, inst *Instruction) error {
	if context == nil {
		return &MissingContextError{inst.Action}
	}
	if _, err := ServiceInfos(context.Info(), inst.Names); err != nil {
		return err
	}
	return context.ServiceControl(inst)
}

type startCommand struct {
	baseCommand
	clientutil.ServiceScopeOptions
	Positional struct {
		ServiceNames []string `positional-arg-name:"<service>" required:"yes"`
	} `positional-args:"yes" required:"yes"`
	Enable bool `long:"enable" description:"Enable the specified services (see man systemctl for details)"`
}

func (c *startCommand) Execute(args []string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return runServiceCommand(c.context(), &Instruction{Action: "start", Names: c.Positional.ServiceNames, Enable: c.Enable})
}

type stopCommand struct {
	baseCommand
	clientutil.ServiceScopeOptions
	Positional struct {
		ServiceNames []string `positional-arg-name:"<service>" required:"yes"`
	} `positional-args:"yes" required:"yes"`
	Disable bool `long:"disable" description:"Disable the specified services (see man systemctl for details)"`
}

func (c *stopCommand) Execute(args []string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return runServiceCommand(c.context(), &Instruction{Action: "stop", Names: c.Positional.ServiceNames, Disable: c.Disable})
}

type restartCommand struct {
	baseCommand
	clientutil.ServiceScopeOptions
	Positional struct {
		ServiceNames []string `positional-arg-name:"<service>" required:"yes"`
	} `positional-args:"yes" required:"yes"`
	Reload bool `long:"reload" description:"Reload the given services if they support it (see man systemctl for details)"`
}

func (c *restartCommand) Execute(args []string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return runServiceCommand(c.context(), &Instruction{Action: "restart", Names: c.Positional.ServiceNames, Reload: c.Reload})
}

type servicesCommand struct {
	baseCommand
	Positional struct {
		ServiceNames []string `positional-arg-name:"<service>"`
	} `positional-args:"yes"`
	Global bool `long:"global" short:"g" description:"Show the global enable status for user services instead of the status for the current user"`
	User   bool `long:"user" short:"u" description:"Show the current status of the user services instead of the global enable status"`
}

func init() {
	addCommand("start", "Start services", `
The start command starts the given services of the snap. If executed from the
"configure" hook or "default-configure" hook, the services will be started after the hook finishes.`,
		func() command { return &startCommand{} })
	addCommand("stop", "Stop services", `
The stop command stops the given services of the snap. If executed from the
"configure" hook, the services will be stopped after the hook finishes.`,
		func() command { return &stopCommand{} })
	addCommand("restart", "Restart services", `
The restart command restarts the given services of the snap. If executed from the
"configure" hook, the services will be restarted after the hook finishes.`,
		func() command { return &restartCommand{} })
	addCommand("services", "Query the status of services", `
The services command lists information about the services specified.
`, func() command { return &servicesCommand{} })
}

func (c *servicesCommand) showGlobalEnablement() bool {
	if c.uid == "0" && !c.User {
		return true
	} else if c.uid != "0" && c.Global {
		return true
	}
	return false
}

func (c *servicesCommand) Execute([]string) error {
	ctx, err := c.ensureContext()
	if err != nil {
		return err
	}
	if c.Global && c.User {
		return errors.New("cannot combine --global and --user switches.")
	}
	svcInfos, err := ServiceInfos(ctx.Info(), c.Positional.ServiceNames)
	if err != nil {
		return err
	}
	sort.Slice(svcInfos, func(i, j int) bool { return svcInfos[i].Name < svcInfos[j].Name })

	isGlobal := c.showGlobalEnablement()
	services, err := ctx.ServiceStatus(svcInfos, isGlobal)
	if err != nil || len(services) == 0 {
		return err
	}

	w := tabwriter.NewWriter(c.stdout, 5, 3, 2, ' ', 0)
	defer w.Flush()

	fmt.Fprintln(w, "Service\tStartup\tCurrent\tNotes")
	for _, svc := range services {
		fmt.Fprintln(w, clientutil.FmtServiceStatus(&svc, isGlobal))
	}
	return nil
}

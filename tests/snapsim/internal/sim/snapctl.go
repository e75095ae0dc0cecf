package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/snapcore/snapd/client"
	"github.com/snapcore/snapd/overlord/configstate/config"
	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/ctl"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/runner"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/services"
)

// ServiceHelperVerb is the hidden snapsim verb that runs an ephemeral
// snapctl service command in its own session.
const ServiceHelperVerb = "__service-control"

// ephemeralContext is the context of snapctl run by an app or daemon.
type ephemeralContext struct {
	sim    *Sim
	info   *snap.Info
	tr     *config.Transaction
	health *ctl.Health
}

var _ ctl.Context = (*ephemeralContext)(nil)

func (c *ephemeralContext) InstanceName() string             { return c.info.InstanceName() }
func (c *ephemeralContext) HookName() string                 { return "" }
func (c *ephemeralContext) Info() *snap.Info                 { return c.info }
func (c *ephemeralContext) Transaction() *config.Transaction { return c.tr }

func (c *ephemeralContext) ServiceStatus(apps []*snap.AppInfo, global bool) ([]client.AppInfo, error) {
	return c.sim.appInfos(apps), nil
}

func (c *ephemeralContext) SetHealth(h *ctl.Health) error {
	c.health = h
	return nil
}

// ServiceControl runs the command in a helper process of its own session,
// so that a daemon restarting itself does not kill the command half-way (in
// snapd the work is done by snapd, not by the snapctl process).
func (c *ephemeralContext) ServiceControl(inst *ctl.Instruction) error {
	data, err := json.Marshal(inst)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.sim.Self, ServiceHelperVerb, "--root", c.sim.Root.Dir, string(data))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			msg = strings.TrimPrefix(msg, "error: ")
			if msg == "" {
				msg = err.Error()
			}
			return errors.New(msg)
		}
		return nil
	case <-time.After(runner.ConfigureHookTimeout() / 2):
		return fmt.Errorf("%s command is taking too long", inst.Action)
	}
}

// ServiceHelper is the body of ServiceHelperVerb.
func (s *Sim) ServiceHelper(instJSON string) error {
	var inst ctl.Instruction
	if err := json.Unmarshal([]byte(instJSON), &inst); err != nil {
		return err
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	_, info, err := s.installedSnap("")
	if err != nil {
		return err
	}
	if err := s.serviceControl(info, &inst); err != nil {
		return taskErr(serviceSummary(info, &inst), err)
	}
	return nil
}

// Snapctl runs snapctl outside any hook. cookie is the caller's SNAP_COOKIE;
// trusted skips its check (`snapsim snapctl`).
func (s *Sim) Snapctl(cookie string, trusted bool, args []string, uid uint32) *ctl.Response {
	if len(args) == 0 {
		return &ctl.Response{Error: "snapctl cannot run without args"}
	}
	uid = s.MapUID(uid)
	mutating := args[0] == "set" || args[0] == "unset"
	var err error
	if mutating {
		err = s.lock()
	} else {
		err = s.readOnly()
	}
	if err != nil {
		return &ctl.Response{Error: err.Error()}
	}
	defer s.unlock()

	var context ctl.Context
	var ectx *ephemeralContext
	if _, info, err := s.installedSnap(""); err == nil {
		if trusted || (cookie != "" && cookie == services.ReadCookie(s.Root, info.InstanceName())) {
			st := s.store.State()
			st.Lock()
			ectx = &ephemeralContext{sim: s, info: info, tr: config.NewTransaction(st)}
			st.Unlock()
			context = ectx
		}
	}
	stdout, stderr, err := ctl.Run(context, args, uid)
	resp := ctl.Result(stdout, stderr, err)
	if err != nil || ectx == nil {
		return resp
	}
	// the ephemeral context is done
	if mutating {
		st := s.store.State()
		st.Lock()
		ectx.tr.Commit()
		st.Unlock()
	}
	if err := s.recordHealth(ectx.info, ectx.health); err != nil {
		return &ctl.Response{Error: fmt.Sprintf("set failed: %v", err)}
	}
	return resp
}

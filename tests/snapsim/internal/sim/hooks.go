package sim

import (
	"fmt"
	"sync"
	"time"

	"github.com/snapcore/snapd/client"
	"github.com/snapcore/snapd/osutil"
	"github.com/snapcore/snapd/overlord/configstate/config"
	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/ctl"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/runner"
	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/store"
)

// hookContext is a running hook's context (snapd's hookstate.Context).
type hookContext struct {
	sim  *Sim
	info *snap.Info
	hook string
	tr   *config.Transaction

	mu     sync.Mutex
	queued []*ctl.Instruction
	health *ctl.Health
}

var _ ctl.Context = (*hookContext)(nil)

func (s *Sim) newHookContext(info *snap.Info, hook string) *hookContext {
	st := s.store.State()
	st.Lock()
	tr := config.NewTransaction(st)
	st.Unlock()
	return &hookContext{sim: s, info: info, hook: hook, tr: tr}
}

func (c *hookContext) InstanceName() string             { return c.info.InstanceName() }
func (c *hookContext) HookName() string                 { return c.hook }
func (c *hookContext) Info() *snap.Info                 { return c.info }
func (c *hookContext) Transaction() *config.Transaction { return c.tr }

// ServiceControl queues service commands asked for by the configure hook
// (they run after the hook succeeded, in order, as snapd queues them after the
// hook task); from any other hook they run now.
func (c *hookContext) ServiceControl(inst *ctl.Instruction) error {
	if c.hook == "configure" || c.hook == "default-configure" {
		c.mu.Lock()
		c.queued = append(c.queued, inst)
		c.mu.Unlock()
		return nil
	}
	return c.sim.serviceControl(c.info, inst)
}

func (c *hookContext) ServiceStatus(apps []*snap.AppInfo, global bool) ([]client.AppInfo, error) {
	return c.sim.appInfos(apps), nil
}

func (c *hookContext) SetHealth(h *ctl.Health) error {
	c.mu.Lock()
	c.health = h
	c.mu.Unlock()
	return nil
}

// done is hookstate.Context.Done: commit the transaction, record the health.
func (c *hookContext) done() error {
	st := c.sim.store.State()
	st.Lock()
	c.tr.Commit()
	st.Unlock()
	return c.sim.recordHealth(c.info, c.health)
}

func (s *Sim) recordHealth(info *snap.Info, h *ctl.Health) error {
	if h == nil {
		return nil
	}
	return store.SetHealth(s.Root, info.InstanceName(), &store.Health{
		Revision:  info.Revision.String(),
		Timestamp: time.Now().UTC(),
		Status:    h.Status,
		Message:   h.Message,
		Code:      h.Code,
	})
}

// hookTask describes one hook task of a change.
type hookTask struct {
	hook        string
	summary     string
	optional    bool
	ignoreError bool
	timeout     time.Duration
	patch       map[string]interface{}
}

// runHookTask runs a hook task as snapd's hook manager does. It returns the
// finished context (nil when the hook is absent and optional).
func (s *Sim) runHookTask(info *snap.Info, t *hookTask) (*hookContext, error) {
	hook := info.Hooks[t.hook]
	if hook == nil {
		if !t.optional {
			return nil, taskErr(t.summary, fmt.Errorf("snap %q has no %q hook", info.InstanceName(), t.hook))
		}
		return nil, nil
	}
	ctx := s.newHookContext(info, t.hook)
	if t.hook == "configure" {
		// configureHandler.Before
		if err := config.Patch(ctx.tr, info.InstanceName(), t.patch); err != nil {
			return nil, taskErr(t.summary, err)
		}
	}
	timeout := t.timeout
	if timeout == 0 {
		timeout = runner.DefaultHookTimeout
	}
	if err := s.runHook(ctx, hook, timeout); err != nil {
		if t.ignoreError {
			// snapd only logs "ignoring failure in hook" in the change
			return nil, nil
		}
		return nil, taskErr(t.summary, fmt.Errorf("run hook %q: %v", t.hook, err))
	}
	if err := ctx.done(); err != nil {
		return nil, taskErr(t.summary, err)
	}
	return ctx, nil
}

// runHook runs the hook process with its context served for snapctl.
func (s *Sim) runHook(ctx *hookContext, hook *snap.HookInfo, timeout time.Duration) error {
	if err := s.ensureShim(); err != nil {
		return err
	}
	rctx := s.runCtx(ctx.info)
	if err := rctx.EnsureUserDirs(); err != nil {
		return err
	}
	cookie := newCookie()
	srv, err := ctl.Listen(ctx, cookie, s.MapUID)
	if err != nil {
		return fmt.Errorf("cannot serve snapctl: %v", err)
	}
	defer srv.Close()
	env := rctx.HookEnv(hook, runner.SystemEnv(), cookie)
	output, err := runner.RunHook(rctx.HookCommand(hook), env, timeout)
	if err != nil {
		return osutil.OutputErr(output, err)
	}
	return nil
}

// runQueued runs the service commands queued by a configure hook.
func (s *Sim) runQueued(info *snap.Info, ctx *hookContext) error {
	if ctx == nil {
		return nil
	}
	for _, inst := range ctx.queued {
		if err := s.serviceControl(info, inst); err != nil {
			return taskErr(serviceSummary(info, inst), err)
		}
	}
	return nil
}

package services

import (
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/snapcore/snapd/osutil"
)

// Runtime states, as systemd's ActiveState.
const (
	StateActivating   = "activating"
	StateActive       = "active"
	StateDeactivating = "deactivating"
	StateInactive     = "inactive"
	StateFailed       = "failed"
)

// Runtime is the status of one service, written by its supervisor.
type Runtime struct {
	SupervisorPID   int       `json:"supervisor-pid"`
	SupervisorStart uint64    `json:"supervisor-start"`
	MainPID         int       `json:"main-pid,omitempty"`
	State           string    `json:"state"`
	Result          string    `json:"result,omitempty"`
	ExitStatus      int       `json:"exit-status,omitempty"`
	Restarts        int       `json:"restarts,omitempty"`
	Since           time.Time `json:"since"`
}

func readRuntime(path string) (*Runtime, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Runtime{State: StateInactive}, nil
	}
	if err != nil {
		return nil, err
	}
	var rt Runtime
	if err := json.Unmarshal(data, &rt); err != nil {
		return nil, err
	}
	return &rt, nil
}

func writeRuntime(path string, rt *Runtime) error {
	rt.Since = time.Now().UTC()
	data, err := json.Marshal(rt)
	if err != nil {
		return err
	}
	return osutil.AtomicWriteFile(path, data, 0644, 0)
}

// supervised reports whether the runtime's supervisor is still running.
func (rt *Runtime) supervised() bool {
	return rt.SupervisorPID > 0 && alive(rt.SupervisorPID, rt.SupervisorStart)
}

// Active is systemd's "is-active": the supervisor runs and says active.
func (rt *Runtime) Active() bool {
	return rt.supervised() && rt.State == StateActive
}

package services

import (
	"os"
	"syscall"
	"testing"

	"github.com/snapcore/snapd/snap"
)

func exited(code int) syscall.WaitStatus { return syscall.WaitStatus(code << 8) }
func killed(sig syscall.Signal) syscall.WaitStatus {
	return syscall.WaitStatus(int(sig))
}

func TestShouldRestart(t *testing.T) {
	tests := []struct {
		cond snap.RestartCondition
		ws   syscall.WaitStatus
		want bool
	}{
		{"", exited(0), false},
		{"", exited(1), true},
		{"", killed(syscall.SIGKILL), true},
		{"", killed(syscall.SIGTERM), false},
		{snap.RestartOnFailure, exited(2), true},
		{snap.RestartOnFailure, exited(0), false},
		{snap.RestartNever, exited(1), false},
		{snap.RestartNever, killed(syscall.SIGSEGV), false},
		{snap.RestartAlways, exited(0), true},
		{snap.RestartAlways, killed(syscall.SIGTERM), true},
		{snap.RestartOnSuccess, exited(0), true},
		{snap.RestartOnSuccess, exited(1), false},
		{snap.RestartOnAbnormal, exited(1), false},
		{snap.RestartOnAbnormal, killed(syscall.SIGKILL), true},
		{snap.RestartOnAbort, killed(syscall.SIGABRT), true},
		{snap.RestartOnAbort, killed(syscall.SIGHUP), false},
		{snap.RestartOnWatchdog, exited(1), false},
	}
	for _, tc := range tests {
		if got := shouldRestart(tc.cond, tc.ws); got != tc.want {
			t.Errorf("shouldRestart(%q, %s) = %v, want %v", tc.cond, describe(tc.ws), got, tc.want)
		}
	}
}

func TestAlive(t *testing.T) {
	me := os.Getpid()
	start := procStartTime(me)
	if start == 0 {
		t.Fatal("no start time for self")
	}
	if !alive(me, start) || !alive(me, 0) {
		t.Fatal("self not alive")
	}
	if alive(me, start+1) {
		t.Fatal("a different start time must not count as the same process")
	}
	if alive(0, 0) || alive(1<<30, 0) {
		t.Fatal("bogus pids alive")
	}
}

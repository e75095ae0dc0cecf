// Package history is what the load checker records during a lifecycle
// scenario and how it is judged: every operation with its start, end and
// outcome, the cluster's leader and term over time, and a linearizability
// check of the operations with porcupine on a key-value register model.
//
// The checker (tests/lifecycle/loadcheck) writes a Report inside a lab
// namespace; the scenario driver reads it in the root namespace and judges
// it with Summarize, so nothing here touches the network.
package history

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// Operation kinds.
const (
	Put = "put"
	Get = "get"
)

// LogPrefix holds one key per write, named after the value written: a put
// writes its register key and its log key in one transaction, so the log
// tells at the end which acknowledged writes the cluster still has.
const LogPrefix = "/lc/log/"

// RegisterPrefix holds the registers that workers overwrite and read.
const RegisterPrefix = "/lc/reg/"

// Op is one client operation. Times are nanoseconds since the checker
// started, from the monotonic clock.
type Op struct {
	Worker int    `json:"w"`
	Kind   string `json:"k"`
	Key    string `json:"key"`
	// Value is the value written (put) or read (get, when Found).
	Value string `json:"v,omitempty"`
	Found bool   `json:"found,omitempty"`
	Start int64  `json:"s"`
	End   int64  `json:"e"`
	// Err is the error the client library finally returned to the caller,
	// after its own retries; empty when the operation succeeded.
	Err string `json:"err,omitempty"`
}

// Failed reports whether the caller saw an error.
func (o Op) Failed() bool { return o.Err != "" }

// Sample is the cluster's leader and term as the checker saw them.
type Sample struct {
	At     int64  `json:"at"`
	Leader string `json:"leader"` // member name, empty when no member reports one
	Term   uint64 `json:"term"`
}

// Mark is a point in time named by the scenario driver.
type Mark struct {
	At   int64  `json:"at"`
	Name string `json:"name"`
}

// Probe is one request of the long-lived client (the client that keeps
// its old certificate through a CA rotation).
type Probe struct {
	Start int64  `json:"s"`
	End   int64  `json:"e"`
	Err   string `json:"err,omitempty"`
}

// Report is everything the checker recorded.
type Report struct {
	// Base is the wall-clock time (Unix nanoseconds) the checker's times
	// count from, to line them up with the members' logs.
	Base int64 `json:"base"`
	Ops  []Op  `json:"ops"`
	// Logged is every value found under LogPrefix at the end; FinalErr
	// says why the final read failed, if it did.
	Logged   []string `json:"logged"`
	FinalErr string   `json:"final-err,omitempty"`
	Samples  []Sample `json:"samples"`
	Marks    []Mark   `json:"marks"`
	Probes   []Probe  `json:"probes,omitempty"`
	Duration int64    `json:"duration"`
}

// Summary is the verdict on a report.
type Summary struct {
	Ops, Failed, Lost int
	Linearizable      bool
	// CheckTimedOut is set when porcupine could not decide in time
	// (Linearizable is then false).
	CheckTimedOut bool
	MaxWriteGap   time.Duration
	// LeaderChanges is the number of raft term bumps the checker saw: a
	// planned leadership transfer is one, an election is one or more.
	LeaderChanges int
	// NoLeader is the longest time the checker saw no leader.
	NoLeader time.Duration
}

// Line is the one line a scenario prints.
func (s Summary) Line(name string) string {
	return fmt.Sprintf("scenario=%s ops=%d failed=%d lost=%d linearizable=%t max_write_gap_ms=%d leader_changes=%d",
		name, s.Ops, s.Failed, s.Lost, s.Linearizable, s.MaxWriteGap.Milliseconds(), s.LeaderChanges)
}

// Summarize judges a report. timeout bounds the linearizability check.
func Summarize(r *Report, timeout time.Duration) Summary {
	s := Summary{Ops: len(r.Ops)}
	for _, o := range r.Ops {
		if o.Failed() {
			s.Failed++
		}
	}
	s.Lost = len(LostWrites(r))
	switch CheckLinearizable(r.Ops, timeout) {
	case porcupine.Ok:
		s.Linearizable = true
	case porcupine.Unknown:
		s.CheckTimedOut = true
	}
	s.MaxWriteGap = MaxWriteGap(r.Ops)
	s.LeaderChanges, s.NoLeader = leaderChanges(r.Samples)
	return s
}

// LostWrites are the values of acknowledged writes that the cluster no
// longer holds at the end. When the final read failed, every acknowledged
// write counts as lost: nothing shows it is there.
func LostWrites(r *Report) []string {
	have := make(map[string]bool, len(r.Logged))
	for _, v := range r.Logged {
		have[v] = true
	}
	var lost []string
	for _, o := range r.Ops {
		if o.Kind == Put && !o.Failed() && (r.FinalErr != "" || !have[o.Value]) {
			lost = append(lost, o.Value)
		}
	}
	return lost
}

// MaxWriteGap is the longest time between the start of the load and the
// first acknowledged write, between two consecutive acknowledged writes,
// or between the last one and the start of a later write (writes still
// in flight when the load stops do not stretch it).
func MaxWriteGap(ops []Op) time.Duration {
	from, to := WriteGap(ops)
	return time.Duration(to - from)
}

// WriteGap is where MaxWriteGap lies: its start and end, in the checker's
// times.
func WriteGap(ops []Op) (from, to int64) {
	if len(ops) == 0 {
		return 0, 0
	}
	first, last := int64(math.MaxInt64), int64(0)
	var acks []int64
	for _, o := range ops {
		first = min(first, o.Start)
		if o.Kind == Put {
			last = max(last, o.Start)
			if !o.Failed() {
				acks = append(acks, o.End)
			}
		}
	}
	if len(acks) == 0 {
		return first, max(first, last)
	}
	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	from, to = first, acks[0]
	for i := 1; i < len(acks); i++ {
		if acks[i]-acks[i-1] > to-from {
			from, to = acks[i-1], acks[i]
		}
	}
	if last-acks[len(acks)-1] > to-from {
		from, to = acks[len(acks)-1], last
	}
	return from, to
}

func leaderChanges(samples []Sample) (changes int, noLeader time.Duration) {
	var first, top uint64
	var since int64 = -1
	for _, s := range samples {
		if s.Term > 0 && first == 0 {
			first = s.Term
		}
		top = max(top, s.Term)
		switch {
		case s.Leader == "" && since < 0:
			since = s.At
		case s.Leader != "" && since >= 0:
			noLeader = max(noLeader, time.Duration(s.At-since))
			since = -1
		}
	}
	if first == 0 {
		return 0, noLeader
	}
	return int(top - first), noLeader
}

// kvInput and kvOutput are the register model's operation.
type kvInput struct {
	put   bool
	key   string
	value string
}

type kvOutput struct {
	found   bool
	value   string
	unknown bool // a put whose outcome the client does not know
}

// Model is a map of registers, partitioned by key; the empty string is
// the state of a key that was never written.
var Model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(kvInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in, out := input.(kvInput), output.(kvOutput)
		st := state.(string)
		if in.put {
			return true, in.value
		}
		if !out.found {
			return st == "", st
		}
		return out.value == st, st
	},
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(kvInput), output.(kvOutput)
		switch {
		case in.put && out.unknown:
			return fmt.Sprintf("put(%s, %s) -> unknown", in.key, in.value)
		case in.put:
			return fmt.Sprintf("put(%s, %s)", in.key, in.value)
		case !out.found:
			return fmt.Sprintf("get(%s) -> none", in.key)
		}
		return fmt.Sprintf("get(%s) -> %s", in.key, out.value)
	},
}

// Operations turns the history into porcupine's form. A failed put may or
// may not have taken effect: it is kept with an end time of infinity, so
// that it may take effect at any point after it started, or never be
// observed (porcupine's way of modelling an indeterminate operation). A
// failed get observed nothing and is left out.
func Operations(ops []Op) []porcupine.Operation {
	out := make([]porcupine.Operation, 0, len(ops))
	for _, o := range ops {
		in := kvInput{put: o.Kind == Put, key: o.Key, value: o.Value}
		switch {
		case o.Kind == Get && o.Failed():
			continue
		case o.Kind == Put && o.Failed():
			out = append(out, porcupine.Operation{ClientId: o.Worker, Input: in, Call: o.Start, Output: kvOutput{unknown: true}, Return: math.MaxInt64})
		default:
			out = append(out, porcupine.Operation{ClientId: o.Worker, Input: in, Call: o.Start, Output: kvOutput{found: o.Found, value: o.Value}, Return: o.End})
		}
	}
	return out
}

// CheckLinearizable runs porcupine on the history, for at most timeout.
func CheckLinearizable(ops []Op, timeout time.Duration) porcupine.CheckResult {
	return porcupine.CheckOperationsTimeout(Model, Operations(ops), timeout)
}

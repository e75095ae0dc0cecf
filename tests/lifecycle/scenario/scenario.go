// Package scenario runs the live TLS lifecycle of a 3-member cluster under
// load: peer TLS on, client TLS on, leaf renewal, CA rotation of each
// surface with a two-CA bundle, and TLS off, each member by member on a
// fresh lab, while a load checker inside the lab records every client
// operation. Each scenario ends with one line:
//
//	scenario=NAME ops=N failed=N lost=N linearizable=true|false max_write_gap_ms=N leader_changes=N
//
// make lifecycle (tests/lifecycle) and the integration test
// (tests/integration/lifecycle_test.go) run the same bodies.
package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lab"
	"github.com/canonical/charmed-etcd-snap/tests/lifecycle/history"
)

// Options configure a run.
type Options struct {
	// Lab is the lab of each scenario; its Log receives every step.
	Lab lab.Options
	// Checker is the load checker binary (BuildChecker).
	Checker string
	// Strict counts every failed request against the scenario, also the
	// writes etcd drops during a planned leadership transfer.
	Strict bool
	// KeepLogs, when set, is a directory that receives each member's
	// daemon log, under the scenario's name, before the lab is removed.
	KeepLogs string
}

// Scenario is one lifecycle change, run member by member on a fresh lab.
type Scenario struct {
	Name    string
	Summary string
	body    func(e *env) error
	// judge, when set, checks scenario-specific expectations on the
	// checker's report.
	judge func(e *env, r *history.Report) error
}

// Outcome is what a scenario showed.
type Outcome struct {
	Name    string
	Summary history.Summary
	// Planned is the number of leadership transfers the hooks were to make
	// (a restart of the member that led).
	Planned int
	// Dropped is the number of failed writes that reached a leader while
	// it handed its leadership over (counted in Summary.Failed too).
	Dropped  int
	Restarts int
	Elapsed  time.Duration
	Problems []string
}

// Line is the scenario's one-line result.
func (o *Outcome) Line() string { return o.Summary.Line(o.Name) }

// Err is nil when every expectation held.
func (o *Outcome) Err() error {
	if len(o.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("scenario %s: %s", o.Name, strings.Join(o.Problems, "; "))
}

// All is every scenario, in the order make lifecycle runs them.
func All() []Scenario {
	return []Scenario{
		{Name: "peer-tls-on", Summary: "peer TLS on a running cluster, member by member; refused without quorum", body: peerTLSOn},
		{Name: "client-tls-on", Summary: "client TLS (mutual) on a running cluster, member by member", body: clientTLSOn},
		{Name: "leaf-renewal", Summary: "new peer and client certificates from the same CAs, without a restart", body: leafRenewal},
		{Name: "ca-rotation-peer", Summary: "peer CA rotation through a bundle of the old and new CA", body: peerCARotation},
		{Name: "ca-rotation-client", Summary: "client CA rotation through a bundle; a long-lived client works until its CA is withdrawn", body: clientCARotation, judge: judgeLongLived},
		{Name: "tls-off", Summary: "snap unset tls.peer, then tls.client, member by member", body: tlsOff},
	}
}

// Find returns the scenarios with the given names, all of them for none.
func Find(names []string) ([]Scenario, error) {
	if len(names) == 0 {
		return All(), nil
	}
	var out []Scenario
	for _, n := range names {
		found := false
		for _, sc := range All() {
			if sc.Name == n {
				out, found = append(out, sc), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no scenario called %q", n)
		}
	}
	return out, nil
}

// ElectionTimeout is etcd's default election timeout, which the snap
// keeps: F9 allows no longer stall of the writes.
const ElectionTimeout = time.Second

// Limit bounds one scenario, lab set-up and clean-up included.
const Limit = 4 * time.Minute

// Run runs one scenario on a fresh lab, which it removes at the end.
func Run(ctx context.Context, opts Options, sc Scenario) *Outcome {
	start := time.Now()
	out := &Outcome{Name: sc.Name}
	ctx, cancel := context.WithTimeout(ctx, Limit)
	defer cancel()
	log := opts.Lab.Log
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "\n##### scenario %s: %s\n", sc.Name, sc.Summary)
	if opts.Lab.Loopback {
		out.Problems = append(out.Problems, "the lifecycle scenarios need root for network namespaces")
		return out
	}
	opts.Lab.Members = 3
	l, err := lab.New(ctx, opts.Lab)
	if err != nil {
		out.Problems = append(out.Problems, err.Error())
		return out
	}
	defer l.Close()
	if opts.KeepLogs != "" {
		defer keepLogs(l, filepath.Join(opts.KeepLogs, sc.Name))
	}
	e := &env{ctx: ctx, l: l, log: log, rep: &lab.Report{W: log}, bin: opts.Checker,
		peerTLS: map[string]bool{}, clientTLS: map[string]bool{}, drained: map[string]bool{}}
	if err := sc.body(e); err != nil {
		out.Problems = append(out.Problems, err.Error())
	}
	if e.chk != nil {
		e.step("stop the load and judge the history")
		r, err := e.chk.stop()
		if err != nil {
			out.Problems = append(out.Problems, err.Error())
		} else {
			out.Problems = append(out.Problems, e.judge(r, out, opts.Strict)...)
			if sc.judge != nil {
				if err := e.check("scenario-specific expectations", sc.judge(e, r)); err != nil {
					out.Problems = append(out.Problems, err.Error())
				}
			}
		}
	} else if len(out.Problems) == 0 {
		out.Problems = append(out.Problems, "the scenario put no load on the cluster")
	}
	out.Planned, out.Restarts = e.planned, e.restarts
	out.Elapsed = time.Since(start)
	return out
}

// judge applies the expectations every scenario shares to the history.
func (e *env) judge(r *history.Report, out *Outcome, strict bool) []string {
	s := history.Summarize(r, 60*time.Second)
	out.Summary = s
	base := time.Unix(0, r.Base)
	ws := transfers(e.l)
	var unexpected []history.Op
	for _, o := range r.Ops {
		switch {
		case !o.Failed():
		case !strict && droppedAtTransfer(o, base, ws):
			out.Dropped++
		default:
			unexpected = append(unexpected, o)
		}
	}
	fmt.Fprintf(e.log, "    %d operations in %s; %d restarts, %d changes without restart; leadership transfers planned %d, raft term bumps seen %d; longest time without a leader %s; longest time without an acknowledged write %s\n",
		s.Ops, time.Duration(r.Duration).Round(time.Millisecond), e.restarts, e.changesWithoutRestart, e.planned, s.LeaderChanges, s.NoLeader.Round(time.Millisecond), s.MaxWriteGap.Round(time.Millisecond))
	timeline(e.log, r, ws)
	var problems []string
	add := func(what string, err error) {
		if !e.rep.Check(what, err) {
			problems = append(problems, fmt.Sprintf("%s: %v", what, err))
		}
	}
	var err error
	if len(unexpected) > 0 {
		err = fmt.Errorf("%d failed: %s", len(unexpected), failures(unexpected))
	}
	what := "no client request failed"
	if !strict {
		what += fmt.Sprintf(" (besides %d write(s) dropped by raft during a planned leadership transfer, etcd-io/etcd#8975)", out.Dropped)
	}
	add(what, err)
	err = nil
	if s.Lost > 0 {
		err = fmt.Errorf("%d acknowledged writes missing (final read: %q), e.g. %v", s.Lost, r.FinalErr, first(history.LostWrites(r), 5))
	}
	add("every acknowledged write is present at the end", err)
	err = nil
	switch {
	case s.CheckTimedOut:
		err = errors.New("porcupine could not decide within 60s")
	case !s.Linearizable:
		err = errors.New("porcupine found no linearization of the history")
	}
	add("the history is linearizable (porcupine, register model)", err)
	err = nil
	if s.MaxWriteGap >= ElectionTimeout {
		from, _ := history.WriteGap(r.Ops)
		err = fmt.Errorf("no write was acknowledged for %s from %.3fs", s.MaxWriteGap.Round(time.Millisecond), time.Duration(from).Seconds())
	}
	add(fmt.Sprintf("writes never stall for an election timeout (%s)", ElectionTimeout), err)
	err = nil
	if s.LeaderChanges > e.planned {
		err = fmt.Errorf("%d term bumps for %d planned leadership transfers: an election happened", s.LeaderChanges, e.planned)
	}
	add("no election beyond the planned leadership transfers", err)
	return problems
}

// failures summarises the errors callers saw, most frequent first.
func failures(ops []history.Op) string {
	count := map[string]int{}
	for _, o := range ops {
		count[o.Kind+": "+o.Err]++
	}
	var keys []string
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return count[keys[i]] > count[keys[j]] })
	var parts []string
	for _, k := range first(keys, 3) {
		parts = append(parts, fmt.Sprintf("%dx %s", count[k], k))
	}
	return strings.Join(parts, "; ")
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func ptr(b bool) *bool { return &b }

// timeline prints the leader samples, the driver's marks, the leadership
// transfers the members logged and the failed operations in time order.
func timeline(w io.Writer, r *history.Report, ws []window) {
	type ev struct {
		at   int64
		text string
	}
	var evs []ev
	for _, s := range r.Samples {
		evs = append(evs, ev{s.At, fmt.Sprintf("leader %q term %d", s.Leader, s.Term)})
	}
	for _, m := range r.Marks {
		evs = append(evs, ev{m.At, m.Name})
	}
	if from, to := history.WriteGap(r.Ops); to-from > int64(time.Second) {
		evs = append(evs, ev{from, fmt.Sprintf("no write acknowledged from here for %s", time.Duration(to-from).Round(time.Millisecond))})
	}
	base := time.Unix(0, r.Base)
	for _, t := range ws {
		evs = append(evs, ev{int64(t.start.Sub(base)), fmt.Sprintf("%s hands leadership over (%s)", t.member, t.end.Sub(t.start).Round(time.Millisecond))})
	}
	for _, o := range r.Ops {
		if o.Failed() {
			evs = append(evs, ev{o.Start, fmt.Sprintf("worker %d %s %s failed after %s: %s", o.Worker, o.Kind, o.Key, time.Duration(o.End-o.Start).Round(time.Millisecond), o.Err)})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	fmt.Fprintf(w, "    (times from %s)\n", time.Unix(0, r.Base).UTC().Format(time.RFC3339Nano))
	for _, e := range evs {
		fmt.Fprintf(w, "    %8.3fs %s\n", time.Duration(e.at).Seconds(), e.text)
	}
}

func keepLogs(l *lab.Lab, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	for _, m := range l.Members {
		b, err := os.ReadFile(filepath.Join(m.Root, "var", "log", "snapsim", "charmed-etcd.etcd.log"))
		if err == nil {
			_ = os.WriteFile(filepath.Join(dir, m.Name+".log"), b, 0o644)
		}
	}
}

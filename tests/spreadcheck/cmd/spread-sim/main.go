// Command spread-sim runs the spread suites' tasks against snapsim instead of
// snapd, as spread would run them on one machine: for each task, the suite's
// prepare-each, the task's prepare, execute (then debug on failure) and,
// whatever happened, restore and the suite's restore-each, each section in
// bash with set -eu, in the task's directory, with the project's, suite's
// and task's environment. The tasks see SNAP_CMD="snapsim --root ROOT" (a
// fresh root per task) and SNAP_PRIME, and drive the snap through
// tests/spread/lib. The project-level prepare (setting up a spread machine)
// is not run. It prints one PASS or FAIL line per task, the output of a
// failed one, and exits 1 when any task failed.
//
// Usage: spread-sim -repo DIR [-snapsim FILE] [-prime DIR] [-keep] [TASK...]
// where TASK selects tasks by name (install) or path (tests/spread/main/install).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/spreadcheck"
)

func main() {
	repo := flag.String("repo", ".", "repository root (spread.yaml, bin/, prime/)")
	snapsim := flag.String("snapsim", "", "snapsim binary (default: REPO/bin/snapsim)")
	prime := flag.String("prime", "", "primed snap tree (default: REPO/prime)")
	keep := flag.Bool("keep", false, "keep the work directory (roots, certificates, logs)")
	flag.Parse()
	r, err := newRunner(*repo, *snapsim, *prime)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	failed, err := r.run(flag.Args())
	if !*keep && err == nil && failed == 0 {
		os.RemoveAll(r.work)
	} else {
		fmt.Printf("work directory kept: %s\n", r.work)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

type runner struct {
	repo, snapsim, prime, work string
	project                    *spreadcheck.Project
}

func newRunner(repo, snapsim, prime string) (*runner, error) {
	repo, err := filepath.Abs(repo)
	if err != nil {
		return nil, err
	}
	if snapsim == "" {
		snapsim = filepath.Join(repo, "bin", "snapsim")
	}
	if prime == "" {
		prime = filepath.Join(repo, "prime")
	}
	if snapsim, err = filepath.Abs(snapsim); err != nil {
		return nil, err
	}
	if prime, err = filepath.Abs(prime); err != nil {
		return nil, err
	}
	if _, err := os.Stat(snapsim); err != nil {
		return nil, fmt.Errorf("no snapsim (make bin/snapsim): %v", err)
	}
	if _, err := os.Stat(filepath.Join(prime, "meta", "snap.yaml")); err != nil {
		return nil, fmt.Errorf("no primed snap (make prime): %v", err)
	}
	project, err := spreadcheck.Load(repo)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "spread-sim-")
	if err != nil {
		return nil, err
	}
	// The daemon user must reach its files below the roots.
	if err := os.Chmod(work, 0o755); err != nil {
		return nil, err
	}
	return &runner{repo: repo, snapsim: snapsim, prime: prime, work: work, project: project}, nil
}

func selected(filters []string, suite string, t *spreadcheck.Task) bool {
	if len(filters) == 0 {
		return true
	}
	path := filepath.Join(suite, t.Name)
	for _, f := range filters {
		if f == t.Name || strings.TrimSuffix(f, "/") == path {
			return true
		}
	}
	return false
}

func (r *runner) run(filters []string) (failed int, err error) {
	ran := 0
	for _, suiteName := range r.project.SuiteNames() {
		suite := r.project.Suites[suiteName]
		tasks, err := spreadcheck.Tasks(r.repo, suiteName)
		if err != nil {
			return failed, err
		}
		var chosen []*spreadcheck.Task
		for _, t := range tasks {
			if selected(filters, suiteName, t) {
				chosen = append(chosen, t)
			}
		}
		if len(chosen) == 0 {
			continue
		}
		suiteDir := filepath.Join(r.repo, suiteName)
		suiteEnv := append(append(spreadcheck.Env{}, r.project.Environment...), suite.Environment...)
		if suite.Prepare != "" {
			var log bytes.Buffer
			if err := r.section(suiteDir, suiteName, "", suiteEnv, suite.Prepare, 10*time.Minute, &log); err != nil {
				fmt.Printf("FAIL %s (suite prepare): %v\n%s", suiteName, err, tail(log.String(), 60))
				return failed + len(chosen), nil
			}
		}
		for _, t := range chosen {
			ran++
			if !r.task(suiteName, suite, suiteEnv, t) {
				failed++
			}
		}
		if suite.Restore != "" {
			var log bytes.Buffer
			if err := r.section(suiteDir, suiteName, "", suiteEnv, suite.Restore, 10*time.Minute, &log); err != nil {
				fmt.Printf("FAIL %s (suite restore): %v\n%s", suiteName, err, tail(log.String(), 60))
				failed++
			}
		}
	}
	if ran == 0 {
		return 0, errors.New("no task matched")
	}
	fmt.Printf("%d task(s), %d failed\n", ran, failed)
	return failed, nil
}

// task runs one task and reports it; it returns whether it passed.
func (r *runner) task(suiteName string, suite spreadcheck.Suite, suiteEnv spreadcheck.Env, t *spreadcheck.Task) bool {
	start := time.Now()
	taskPath := filepath.Join(suiteName, t.Name)
	env := append(append(spreadcheck.Env{}, suiteEnv...), t.Environment...)
	timeout := parseTimeout(t.KillTimeout, parseTimeout(suite.KillTimeout, 10*time.Minute))
	var log bytes.Buffer
	step := func(name, script string) error {
		if strings.TrimSpace(script) == "" {
			return nil
		}
		fmt.Fprintf(&log, "--- %s\n", name)
		if err := r.section(t.Dir, taskPath, t.Name, env, script, timeout, &log); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		return nil
	}
	var failure error
	for _, s := range []struct{ name, script string }{
		{"suite prepare-each", suite.PrepareEach},
		{"prepare", t.Prepare},
		{"execute", t.Execute},
	} {
		if failure = step(s.name, s.script); failure != nil {
			break
		}
	}
	var debug bytes.Buffer
	if failure != nil {
		main := log
		log = debug
		_ = step("debug", t.Debug)
		_ = step("suite debug-each", suite.DebugEach)
		debug, log = log, main
	}
	for _, s := range []struct{ name, script string }{
		{"restore", t.Restore},
		{"suite restore-each", suite.RestoreEach},
	} {
		if err := step(s.name, s.script); err != nil && failure == nil {
			failure = err
		}
	}
	if err := r.leftovers(t.Name); err != nil && failure == nil {
		failure = err
	}
	took := time.Since(start).Round(100 * time.Millisecond)
	logFile := filepath.Join(r.work, "logs", t.Name+".log")
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err == nil {
		_ = os.WriteFile(logFile, append(log.Bytes(), debug.Bytes()...), 0o644)
	}
	if failure != nil {
		fmt.Printf("FAIL %s (%s): %v\n%s    debug (full log: %s):\n%s", taskPath, took, failure,
			tail(log.String(), 40), logFile, tail(debug.String(), 25))
		return false
	}
	fmt.Printf("PASS %s (%s)\n", taskPath, took)
	return true
}

func (r *runner) root(task string) string {
	return filepath.Join(r.work, "roots", task, "root")
}

// leftovers stops and removes whatever a task's restore left behind, so
// that no daemon outlives the run, and says so: restore must clean up.
func (r *runner) leftovers(task string) error {
	roots, _ := filepath.Glob(r.root(task) + "*")
	var left []string
	for _, root := range roots {
		left = append(left, filepath.Base(root))
		cmd := exec.Command(r.snapsim, "--root", root, "remove")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		_ = cmd.Run()
		_ = os.RemoveAll(root)
	}
	if len(left) > 0 {
		return fmt.Errorf("restore left snapsim roots behind: %s", strings.Join(left, ", "))
	}
	return nil
}

// section runs one script as spread does: bash, set -eu, the environment
// exported in order, the task's directory as working directory.
func (r *runner) section(dir, taskPath, task string, env spreadcheck.Env, script string, timeout time.Duration, log io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	root := r.root(task)
	if task == "" {
		root = filepath.Join(r.work, "roots", "suite", "root")
	}
	var b strings.Builder
	b.WriteString("set -eu\n")
	b.WriteString(env.Exports())
	// What spread sets, and how the tasks reach snapsim, last: the project's
	// environment must not send them to snapd.
	b.WriteString(spreadcheck.Env{
		{Key: "SPREAD_PATH", Value: r.repo},
		{Key: "SPREAD_BACKEND", Value: "snapsim"},
		{Key: "SPREAD_SYSTEM", Value: "local"},
		{Key: "SPREAD_SUITE", Value: filepath.Dir(taskPath)},
		{Key: "SPREAD_TASK", Value: taskPath},
		{Key: "SPREAD_WORKDIR", Value: filepath.Join(r.work, "tasks")},
		{Key: "SNAP_CMD", Value: r.snapsim + " --root " + root},
		{Key: "SNAP_PRIME", Value: r.prime},
	}.Exports())
	b.WriteString(script)
	cmd := exec.CommandContext(ctx, "bash", "-c", b.String())
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("killed after %s", timeout)
	}
	return err
}

func parseTimeout(s string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	return def
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("    ... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

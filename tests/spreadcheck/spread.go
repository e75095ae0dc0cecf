// Package spreadcheck reads spread.yaml and the suites' task.yaml files as
// spread does, so that a Go test can check them where spread cannot run and
// tests/spread/run-sim.sh can run the tasks against snapsim.
package spreadcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Project is spread.yaml.
type Project struct {
	Project     string             `yaml:"project"`
	Path        string             `yaml:"path"`
	Environment Env                `yaml:"environment"`
	Backends    map[string]Backend `yaml:"backends"`
	Exclude     []string           `yaml:"exclude"`
	KillTimeout string             `yaml:"kill-timeout"`
	WarnTimeout string             `yaml:"warn-timeout"`
	Prepare     string             `yaml:"prepare"`
	Restore     string             `yaml:"restore"`
	Debug       string             `yaml:"debug"`
	PrepareEach string             `yaml:"prepare-each"`
	RestoreEach string             `yaml:"restore-each"`
	DebugEach   string             `yaml:"debug-each"`
	Suites      map[string]Suite   `yaml:"suites"`
}

// Backend is one entry of spread.yaml's backends.
type Backend struct {
	Systems []System `yaml:"systems"`
}

// System is a backend's system: a bare name or a name with settings.
type System struct {
	Name     string
	Settings map[string]any
}

// UnmarshalYAML accepts "ubuntu-24.04-64" and "ubuntu-24.04-64: {image: ...}".
func (s *System) UnmarshalYAML(node *yaml.Node) error {
	switch node.Kind {
	case yaml.ScalarNode:
		s.Name = node.Value
		return nil
	case yaml.MappingNode:
		if len(node.Content) != 2 {
			return fmt.Errorf("line %d: a system is one name with its settings", node.Line)
		}
		s.Name = node.Content[0].Value
		return node.Content[1].Decode(&s.Settings)
	}
	return fmt.Errorf("line %d: cannot read a system from this", node.Line)
}

// Suite is one entry of spread.yaml's suites.
type Suite struct {
	Summary     string   `yaml:"summary"`
	Details     string   `yaml:"details"`
	Systems     []string `yaml:"systems"`
	Backends    []string `yaml:"backends"`
	Manual      bool     `yaml:"manual"`
	Priority    int      `yaml:"priority"`
	Environment Env      `yaml:"environment"`
	KillTimeout string   `yaml:"kill-timeout"`
	WarnTimeout string   `yaml:"warn-timeout"`
	Prepare     string   `yaml:"prepare"`
	Restore     string   `yaml:"restore"`
	Debug       string   `yaml:"debug"`
	PrepareEach string   `yaml:"prepare-each"`
	RestoreEach string   `yaml:"restore-each"`
	DebugEach   string   `yaml:"debug-each"`
}

// Task is a task.yaml.
type Task struct {
	// Name is the task's directory name; Dir its path.
	Name, Dir   string   `yaml:"-"`
	Summary     string   `yaml:"summary"`
	Details     string   `yaml:"details"`
	Systems     []string `yaml:"systems"`
	Backends    []string `yaml:"backends"`
	Manual      bool     `yaml:"manual"`
	Priority    int      `yaml:"priority"`
	Environment Env      `yaml:"environment"`
	KillTimeout string   `yaml:"kill-timeout"`
	WarnTimeout string   `yaml:"warn-timeout"`
	Prepare     string   `yaml:"prepare"`
	Execute     string   `yaml:"execute"`
	Restore     string   `yaml:"restore"`
	Debug       string   `yaml:"debug"`
}

// Env is an environment section, in its order: spread evaluates the values
// with the shell, one after the other.
type Env []KV

// KV is one variable.
type KV struct{ Key, Value string }

// UnmarshalYAML keeps the mapping's order.
func (e *Env) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: environment must be a mapping", node.Line)
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		*e = append(*e, KV{node.Content[i].Value, node.Content[i+1].Value})
	}
	return nil
}

// Exports is the environment as shell export lines, evaluated in order as
// spread does.
func (e Env) Exports() string {
	var b strings.Builder
	for _, kv := range e {
		fmt.Fprintf(&b, "export %s=\"%s\"\n", kv.Key, kv.Value)
	}
	return b.String()
}

// Load reads spread.yaml in repo.
func Load(repo string) (*Project, error) {
	path := filepath.Join(repo, "spread.yaml")
	var p Project
	if err := readStrict(path, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// SuiteNames are the suites in a stable order.
func (p *Project) SuiteNames() []string {
	names := make([]string, 0, len(p.Suites))
	for name := range p.Suites {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Tasks reads every task of a suite (a directory holding task.yaml), in
// name order.
func Tasks(repo, suite string) ([]*Task, error) {
	dir := filepath.Join(repo, suite)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read suite %s: %v", suite, err)
	}
	var tasks []*Task
	for _, e := range entries {
		path := filepath.Join(dir, e.Name(), "task.yaml")
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			continue
		}
		t := &Task{Name: e.Name(), Dir: filepath.Join(dir, e.Name())}
		if err := readStrict(path, t); err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// readStrict decodes YAML refusing unknown keys, as spread refuses them.
func readStrict(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", path, err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("cannot parse %s: %v", path, err)
	}
	return nil
}

package spreadcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const repo = "../.."

// The suites and tasks the snap's spread tests must have (issue 5).
var (
	wantBackends = []string{"lxd", "qemu"}
	wantSystems  = []string{"ubuntu-24.04-64", "ubuntu-22.04-64"}
	wantTasks    = map[string][]string{
		"tests/spread/main/": {"install", "defaults", "tls-walkthrough", "bad-input-rolled-back", "leaf-renewal"},
	}
)

func load(t *testing.T) *Project {
	t.Helper()
	p, err := Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSpreadYAML(t *testing.T) {
	p := load(t)
	if p.Project != "charmed-etcd" || p.Path == "" {
		t.Errorf("project %q path %q: want project charmed-etcd and a path", p.Project, p.Path)
	}
	for _, name := range wantBackends {
		b, ok := p.Backends[name]
		if !ok {
			t.Errorf("backend %s is missing", name)
			continue
		}
		var got []string
		for _, s := range b.Systems {
			got = append(got, s.Name)
			// spread makes an LXD image name from a system name by
			// splitting it on "-": "ubuntu-24.04-64" would become
			// ubuntu:24.04/64/amd64, which does not exist.
			if name == "lxd" && strings.HasSuffix(s.Name, "-64") && s.Settings["image"] == nil {
				t.Errorf("lxd system %s has no image: spread would look for a wrong one", s.Name)
			}
			if name == "qemu" && (s.Settings["username"] == nil || s.Settings["password"] == nil) {
				t.Errorf("qemu system %s has no username and password", s.Name)
			}
		}
		for _, sys := range wantSystems {
			if !slices.Contains(got, sys) {
				t.Errorf("backend %s does not list %s (it lists %v)", name, sys, got)
			}
		}
	}
}

func TestSuitesAndTasks(t *testing.T) {
	p := load(t)
	for suite := range wantTasks {
		if _, ok := p.Suites[suite]; !ok {
			t.Errorf("suite %s is not in spread.yaml", suite)
		}
	}
	for _, suite := range p.SuiteNames() {
		if !strings.HasSuffix(suite, "/") {
			t.Errorf("suite %q: spread names suites by directory, ending in /", suite)
		}
		if p.Suites[suite].Summary == "" {
			t.Errorf("suite %s has no summary", suite)
		}
		if st, err := os.Stat(filepath.Join(repo, suite)); err != nil || !st.IsDir() {
			t.Errorf("suite %s is listed in spread.yaml but is not a directory", suite)
			continue
		}
		tasks, err := Tasks(repo, suite)
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) == 0 {
			t.Errorf("suite %s has no task", suite)
		}
		var names []string
		for _, task := range tasks {
			names = append(names, task.Name)
			if strings.TrimSpace(task.Summary) == "" {
				t.Errorf("%s%s: no summary", suite, task.Name)
			}
			if strings.TrimSpace(task.Details) == "" {
				t.Errorf("%s%s: no details", suite, task.Name)
			}
			if strings.TrimSpace(task.Execute) == "" {
				t.Errorf("%s%s: no execute", suite, task.Name)
			}
		}
		for _, want := range wantTasks[suite] {
			if !slices.Contains(names, want) {
				t.Errorf("suite %s has no task %s", suite, want)
			}
		}
	}
}

// TestEveryTaskIsInASuite finds task.yaml files spread would never run.
func TestEveryTaskIsInASuite(t *testing.T) {
	p := load(t)
	err := filepath.WalkDir(filepath.Join(repo, "tests", "spread"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "task.yaml" {
			return err
		}
		rel, _ := filepath.Rel(repo, filepath.Dir(filepath.Dir(path)))
		if _, ok := p.Suites[rel+"/"]; !ok {
			t.Errorf("%s is in no suite of spread.yaml", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// script is one shell section, named for messages.
type script struct{ name, body string }

func scripts(t *testing.T) []script {
	t.Helper()
	p := load(t)
	out := []script{{"spread.yaml prepare", p.Prepare}, {"spread.yaml restore", p.Restore}}
	for _, name := range p.SuiteNames() {
		s := p.Suites[name]
		for _, sec := range []script{{"prepare", s.Prepare}, {"restore", s.Restore}, {"prepare-each", s.PrepareEach},
			{"restore-each", s.RestoreEach}, {"debug-each", s.DebugEach}} {
			out = append(out, script{name + " " + sec.name, sec.body})
		}
		tasks, err := Tasks(repo, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			for _, sec := range []script{{"prepare", task.Prepare}, {"execute", task.Execute}, {"restore", task.Restore}, {"debug", task.Debug}} {
				out = append(out, script{name + task.Name + " " + sec.name, sec.body})
			}
		}
	}
	return out
}

var sourced = regexp.MustCompile(`\$SPREAD_PATH/(tests/spread/lib/[a-z-]+\.sh)`)

// TestScriptsParse runs bash -n on every section and on the task library,
// and checks that what the sections source exists.
func TestScriptsParse(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed to check the task scripts")
	}
	check := func(name, body string) {
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s does not parse: %v\n%s", name, err, out)
		}
	}
	for _, s := range scripts(t) {
		if strings.TrimSpace(s.body) == "" {
			continue
		}
		check(s.name, s.body)
		for _, m := range sourced.FindAllStringSubmatch(s.body, -1) {
			if _, err := os.Stat(filepath.Join(repo, m[1])); err != nil {
				t.Errorf("%s sources %s, which does not exist", s.name, m[1])
			}
		}
	}
	libs, _ := filepath.Glob(filepath.Join(repo, "tests", "spread", "lib", "*.sh"))
	if len(libs) == 0 {
		t.Fatal("no tests/spread/lib/*.sh")
	}
	for _, lib := range libs {
		data, err := os.ReadFile(lib)
		if err != nil {
			t.Fatal(err)
		}
		check(lib, string(data))
	}
}

var bareSleep = regexp.MustCompile(`(^|[;&|]\s*|\s)sleep\s+[0-9]`)

// TestNoBareSleeps keeps snapd's rule: wait for a condition with retry,
// never for a time.
func TestNoBareSleeps(t *testing.T) {
	for _, s := range scripts(t) {
		for i, line := range strings.Split(s.body, "\n") {
			if bareSleep.MatchString(line) {
				t.Errorf("%s line %d sleeps: use retry -n N --wait S CMD: %s", s.name, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// TestTasksUseTheLibrary makes sure every task drives the snap through
// tests/spread/lib (so it also runs against snapsim), never snap itself.
func TestTasksUseTheLibrary(t *testing.T) {
	direct := regexp.MustCompile(`(^|[;&|(]\s*|\s)(snap|snapctl|charmed-etcd(_[a-z0-9]+)?\.[a-z]+)\s`)
	for _, s := range scripts(t) {
		if strings.HasPrefix(s.name, "spread.yaml") {
			continue // the machine's own preparation talks to snapd
		}
		for i, line := range strings.Split(s.body, "\n") {
			code, _, _ := strings.Cut(line, "#")
			if direct.MatchString(code) && !strings.Contains(code, "is_sim") {
				t.Errorf("%s line %d runs snap directly: use the helpers of tests/spread/lib/snap.sh: %s", s.name, i+1, strings.TrimSpace(line))
			}
		}
	}
}

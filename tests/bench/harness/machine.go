package harness

import (
	"bufio"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Machine describes where a run happened and what was compared.
type Machine struct {
	NProc      int
	CPU        string
	Kernel     string
	GoVersion  string
	LoadBefore string
	LoadAfter  string
	// Binaries: Go version, main module and etcd server module of each side.
	Ours, Upstream, Benchmark BinaryInfo
	// DepDiffs lists modules whose versions differ between the two etcd
	// binaries ("path ours-version upstream-version").
	DepDiffs []string
}

// BinaryInfo is what debug/buildinfo tells about a binary.
type BinaryInfo struct {
	Path, GoVersion, Main, EtcdServer string
	// EtcdRoot is the version of go.etcd.io/etcd/v3 (the benchmark tool's module).
	EtcdRoot string
	deps     map[string]string
}

// Describe reads the machine and the binaries under repo.
func Describe(repo string) Machine {
	m := Machine{NProc: runtime.NumCPU(), CPU: cpuModel(), LoadBefore: loadavg()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	m.Ours = readBinary(filepath.Join(repo, "prime", "bin", "etcd"))
	m.Upstream = readBinary(filepath.Join(repo, "bin", "etcd-upstream"))
	m.Benchmark = readBinary(filepath.Join(repo, "bin", "benchmark"))
	var diffs []string
	for path, v := range m.Ours.deps {
		if u, ok := m.Upstream.deps[path]; ok && u != v {
			diffs = append(diffs, path+" "+v+" "+u)
		}
	}
	sort.Strings(diffs)
	m.DepDiffs = diffs
	return m
}

// ReadBinary reads a binary's build information.
func ReadBinary(path string) BinaryInfo { return readBinary(path) }

func readBinary(path string) BinaryInfo {
	bi := BinaryInfo{Path: path, deps: map[string]string{}}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		bi.GoVersion = "unreadable: " + err.Error()
		return bi
	}
	bi.GoVersion = info.GoVersion
	bi.Main = info.Main.Path + " " + info.Main.Version
	for _, d := range info.Deps {
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version + " (replaced)"
		}
		bi.deps[d.Path] = v
		switch d.Path {
		case "go.etcd.io/etcd/server/v3":
			bi.EtcdServer = v
		case "go.etcd.io/etcd/v3":
			bi.EtcdRoot = v
		}
	}
	if info.Main.Path == "go.etcd.io/etcd/server/v3" {
		bi.EtcdServer = info.Main.Version
	}
	return bi
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return strings.TrimSpace(string(b))
	}
	return strings.Join(f[:3], " ")
}

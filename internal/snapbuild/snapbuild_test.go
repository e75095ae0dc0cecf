package snapbuild

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const repoSnapcraft = "../../snapcraft.yaml"

// fakeELF builds a minimal ELF64 executable for machine with the given
// program headers: kind "static" has one PT_LOAD, "interp" adds PT_INTERP,
// "needed" adds a PT_DYNAMIC segment with one DT_NEEDED.
func fakeELF(t *testing.T, machine elf.Machine, kind string) []byte {
	t.Helper()
	type prog struct {
		typ  elf.ProgType
		data []byte
	}
	progs := []prog{{elf.PT_LOAD, []byte("code")}}
	switch kind {
	case "interp":
		progs = append(progs, prog{elf.PT_INTERP, []byte("/lib64/ld-linux-x86-64.so.2\x00")})
	case "needed":
		dyn := make([]byte, 32)
		binary.LittleEndian.PutUint64(dyn[0:], uint64(elf.DT_NEEDED))
		binary.LittleEndian.PutUint64(dyn[8:], 1)
		progs = append(progs, prog{elf.PT_DYNAMIC, dyn})
	}
	const ehsize, phentsize = 64, 56
	var buf bytes.Buffer
	le := binary.LittleEndian
	buf.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	w := func(v any) { _ = binary.Write(&buf, le, v) }
	w(uint16(elf.ET_EXEC))
	w(uint16(machine))
	w(uint32(1))
	w(uint64(0x400000)) // entry
	w(uint64(ehsize))   // phoff
	w(uint64(0))        // shoff
	w(uint32(0))        // flags
	w(uint16(ehsize))
	w(uint16(phentsize))
	w(uint16(len(progs)))
	w(uint16(64)) // shentsize
	w(uint16(0))  // shnum
	w(uint16(0))  // shstrndx
	off := uint64(ehsize + phentsize*len(progs))
	for _, p := range progs {
		w(uint32(p.typ))
		w(uint32(elf.PF_R))
		w(off)
		w(uint64(0x400000) + off)
		w(uint64(0x400000) + off)
		w(uint64(len(p.data)))
		w(uint64(len(p.data)))
		w(uint64(8))
		off += uint64(len(p.data))
	}
	for _, p := range progs {
		buf.Write(p.data)
	}
	return buf.Bytes()
}

func hostMachine() elf.Machine { return elfMachine(Arch(runtime.GOARCH)) }

// fakeBuild writes a bin/ directory as make build leaves it, with fake
// static binaries, and a configs/ directory.
func fakeBuild(t *testing.T) (binDir, configsDir string) {
	t.Helper()
	dir := t.TempDir()
	binDir, configsDir = filepath.Join(dir, "bin"), filepath.Join(dir, "configs")
	static := fakeELF(t, hostMachine(), "static")
	// One fake binary for every app and hook snapcraft.yaml declares.
	sc, err := Read(filepath.Join("..", "..", "snapcraft.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, app := range sc.Apps {
		cmd, _ := app["command"].(string)
		names = append(names, filepath.Base(cmd))
	}
	for hook := range sc.Hooks {
		names = append(names, "hooks/"+hook)
	}
	for _, name := range names {
		path := filepath.Join(binDir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, static, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(configsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(configsDir, "defaults.yaml"), []byte("client-port: 2379\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return binDir, configsDir
}

func primed(t *testing.T) string {
	t.Helper()
	binDir, configsDir := fakeBuild(t)
	out := filepath.Join(t.TempDir(), "prime")
	if err := Prime(repoSnapcraft, binDir, configsDir, out, "3.6.17"); err != nil {
		t.Fatalf("Prime: %v", err)
	}
	return out
}

func TestRepoSnapcraftPassesLint(t *testing.T) {
	sc, err := Read(repoSnapcraft)
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Lint(); err != nil {
		t.Fatalf("snapcraft.yaml:\n%v", err)
	}
}

func TestLintRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(sc *Snapcraft)
		want   string
	}{
		{"classic", func(sc *Snapcraft) { sc.Confinement = "classic" }, "confinement"},
		{"core22", func(sc *Snapcraft) { sc.Base = "core22" }, "base"},
		{"fixed version", func(sc *Snapcraft) { sc.Version = "1.0" }, "craftctl set version"},
		{"no adopt-info", func(sc *Snapcraft) { sc.AdoptInfo = "" }, "no adopt-info"},
		{"no craftctl", func(sc *Snapcraft) {
			p := sc.Parts["charmed-etcd"]
			p.OverrideBuild = strings.ReplaceAll(p.OverrideBuild, "craftctl set version=", "echo ")
			sc.Parts["charmed-etcd"] = p
		}, "sets no version"},
		{"cgo", func(sc *Snapcraft) {
			p := sc.Parts["charmed-etcd"]
			p.BuildEnvironment = nil
			sc.Parts["charmed-etcd"] = p
		}, "CGO_ENABLED"},
		{"no snap_daemon", func(sc *Snapcraft) { sc.SystemUsernames = nil }, "snap_daemon"},
		{"no post-refresh", func(sc *Snapcraft) { delete(sc.Hooks, "post-refresh") }, "hook post-refresh is not declared"},
		{"no restart-condition", func(sc *Snapcraft) { delete(sc.Apps["etcd"], "restart-condition") }, "restart-condition"},
		{"no network-bind", func(sc *Snapcraft) { sc.Apps["etcd"]["plugs"] = []any{"network"} }, "network-bind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Read(repoSnapcraft)
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(sc)
			err = sc.Lint()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Lint() = %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestPrimeLaysOutTreeAsSnapcraft(t *testing.T) {
	out := primed(t)
	for _, h := range RequiredHooks {
		wrapper, err := os.ReadFile(filepath.Join(out, "meta", "hooks", h))
		if err != nil {
			t.Fatal(err)
		}
		if string(wrapper) != HookWrapper(h) {
			t.Errorf("meta/hooks/%s = %q, want snapcraft's wrapper", h, wrapper)
		}
		if _, err := os.Stat(filepath.Join(out, "snap", "hooks", h)); err != nil {
			t.Errorf("hook binary: %v", err)
		}
	}
	sy, err := ReadSnapYAML(out)
	if err != nil {
		t.Fatal(err)
	}
	if sy.Version != "3.6.17" || sy.Architectures[0] != Arch(runtime.GOARCH) {
		t.Errorf("version %q architectures %v", sy.Version, sy.Architectures)
	}
	if sy.Environment["PATH"] == "" {
		t.Errorf("no snapcraft environment in meta/snap.yaml")
	}
	if sy.Apps["etcd"]["install-mode"] != "disable" || sy.Apps["etcd"]["restart-condition"] != "on-failure" {
		t.Errorf("daemon keys lost: %v", sy.Apps["etcd"])
	}
	if err := Check(out, repoSnapcraft); err != nil {
		t.Fatalf("Check of a fresh prime:\n%v", err)
	}
}

func editSnapYAML(t *testing.T, prime string, edit func(sy *SnapYAML)) {
	t.Helper()
	sy, err := ReadSnapYAML(prime)
	if err != nil {
		t.Fatal(err)
	}
	edit(sy)
	data, err := yaml.Marshal(sy)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prime, "meta", "snap.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckRefuses(t *testing.T) {
	write := func(rel string, data []byte) func(t *testing.T, prime string) {
		return func(t *testing.T, prime string) {
			if err := os.WriteFile(filepath.Join(prime, rel), data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	other := elf.EM_AARCH64
	if hostMachine() == elf.EM_AARCH64 {
		other = elf.EM_X86_64
	}
	tests := []struct {
		name  string
		spoil func(t *testing.T, prime string)
		want  string
	}{
		{"command not executable", func(t *testing.T, prime string) {
			if err := os.Chmod(filepath.Join(prime, "bin", "etcdctl"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "app etcdctl: bin/etcdctl is not executable"},
		{"command missing", func(t *testing.T, prime string) {
			if err := os.Remove(filepath.Join(prime, "bin", "etcd")); err != nil {
				t.Fatal(err)
			}
		}, "app etcd: bin/etcd does not exist"},
		{"hook binary missing", func(t *testing.T, prime string) {
			if err := os.Remove(filepath.Join(prime, "snap", "hooks", "post-refresh")); err != nil {
				t.Fatal(err)
			}
		}, "hook post-refresh: snap/hooks/post-refresh does not exist"},
		{"hook stub", write("meta/hooks/configure", []byte("#!/bin/true\n")), "hook configure: configure is not an ELF file"},
		{"interpreter", write("snap/hooks/configure", fakeELF(t, hostMachine(), "interp")), "program interpreter /lib64/ld-linux-x86-64.so.2"},
		{"needed", write("bin/etcd", fakeELF(t, hostMachine(), "needed")), "needs 1 shared libraries"},
		{"other arch", write("bin/etcdutl", fakeELF(t, other, "static")), "etcdutl is built for"},
		{"undeclared hook", write("meta/hooks/remove", []byte(HookWrapper("remove"))), "meta/hooks/remove: hook not declared"},
		{"restart-condition lost", func(t *testing.T, prime string) {
			editSnapYAML(t, prime, func(sy *SnapYAML) { delete(sy.Apps["etcd"], "restart-condition") })
		}, "app etcd: restart-condition is <nil>, snapcraft.yaml says on-failure"},
		{"plug lost", func(t *testing.T, prime string) {
			editSnapYAML(t, prime, func(sy *SnapYAML) { sy.Hooks["configure"] = map[string]any{} })
		}, "hook configure: plugs"},
		{"system-usernames lost", func(t *testing.T, prime string) {
			editSnapYAML(t, prime, func(sy *SnapYAML) { sy.SystemUsernames = nil })
		}, "system-usernames"},
		{"extra app", func(t *testing.T, prime string) {
			editSnapYAML(t, prime, func(sy *SnapYAML) { sy.Apps["shell"] = map[string]any{"command": "bin/etcd"} })
		}, "app shell is not in snapcraft.yaml"},
		{"no version", func(t *testing.T, prime string) {
			editSnapYAML(t, prime, func(sy *SnapYAML) { sy.Version = "" })
		}, "no version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prime := primed(t)
			tt.spoil(t, prime)
			err := Check(prime, repoSnapcraft)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check() = %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}

func TestCheckStaticOnHostGoBinary(t *testing.T) {
	// The test binary itself links no C code: it must pass on its own.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if f, err := elf.Open(exe); err == nil {
		dynamic := false
		for _, p := range f.Progs {
			dynamic = dynamic || p.Type == elf.PT_INTERP
		}
		f.Close()
		if dynamic {
			err := CheckStatic(exe, elf.EM_NONE)
			if err == nil || !strings.Contains(err.Error(), "dynamically linked") {
				t.Fatalf("CheckStatic(dynamic test binary) = %v", err)
			}
			return
		}
	}
	if err := CheckStatic(exe, hostMachine()); err != nil {
		t.Fatalf("CheckStatic(static test binary) = %v", err)
	}
}

func TestCheckListing(t *testing.T) {
	prime := primed(t)
	var lines []string
	lines = append(lines, "Parallel unsquashfs: Using 2 processors", "12 inodes (40 blocks) to write", "",
		"drwxr-xr-x root/root               24 2025-01-01 00:00 squashfs-root")
	err := filepath.WalkDir(prime, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == prime {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(prime, path)
		lines = append(lines, normalMode(info.Mode().String())+" root/root 100 2025-01-01 00:00 squashfs-root/"+rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	entries := ParseListing(strings.Join(lines, "\n"))
	if err := CheckListing(prime, entries); err != nil {
		t.Fatalf("complete listing: %v", err)
	}

	var missing []Entry
	for _, e := range entries {
		switch e.Path {
		case "snap/hooks/configure":
		case "bin/etcd":
			e.Mode = "-rw-r--r--"
			missing = append(missing, e)
		default:
			missing = append(missing, e)
		}
	}
	missing = append(missing, Entry{Path: "junk", Mode: "-rw-r--r--"})
	err = CheckListing(prime, missing)
	for _, want := range []string{"snap/hooks/configure: in the primed tree, not in the snap", "bin/etcd: mode -rw-r--r-- in the snap", "junk: in the snap, not in the primed tree"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckListing() = %v, want %q", err, want)
		}
	}
}

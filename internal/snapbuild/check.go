package snapbuild

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Check verifies a primed tree against snapcraft.yaml beyond what
// `snap pack --check-skeleton` looks at: meta/snap.yaml says what
// snapcraft.yaml says (apps with their daemon keys and plugs, hooks with
// their plugs, top-level plugs and slots, system-usernames), every app
// command and every hook exists and is executable, meta/hooks holds no
// hook snapcraft.yaml does not declare, and every binary they run is a
// static ELF for the snap's architecture. It returns every problem found,
// so that one run shows them all.
func Check(primeDir, snapcraftPath string) error {
	sc, err := Read(snapcraftPath)
	if err != nil {
		return err
	}
	sy, err := ReadSnapYAML(primeDir)
	if err != nil {
		return err
	}
	var p problems
	p.compareMeta(sc, sy)
	p.checkFiles(primeDir, sc, sy)
	return p.err()
}

type problems []string

func (p *problems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.New(strings.Join(p, "\n"))
}

func (p *problems) compareMeta(sc *Snapcraft, sy *SnapYAML) {
	for _, f := range []struct{ key, want, got string }{
		{"name", sc.Name, sy.Name},
		{"base", sc.Base, sy.Base},
		{"confinement", sc.Confinement, sy.Confinement},
		{"grade", sc.Grade, sy.Grade},
		{"summary", sc.Summary, sy.Summary},
		{"license", sc.License, sy.License},
	} {
		if f.want != f.got {
			p.add("meta/snap.yaml: %s is %q, snapcraft.yaml says %q", f.key, f.got, f.want)
		}
	}
	if sy.Version == "" {
		p.add("meta/snap.yaml: no version")
	} else if sc.Version != "" && sc.Version != sy.Version {
		p.add("meta/snap.yaml: version is %q, snapcraft.yaml says %q", sy.Version, sc.Version)
	}
	if len(sy.Architectures) == 0 {
		p.add("meta/snap.yaml: no architectures")
	}
	if !sameYAML(sc.SystemUsernames, sy.SystemUsernames) {
		p.add("meta/snap.yaml: system-usernames is %v, snapcraft.yaml says %v", sy.SystemUsernames, sc.SystemUsernames)
	}
	if !sameYAML(sc.Plugs, sy.Plugs) {
		p.add("meta/snap.yaml: plugs is %v, snapcraft.yaml says %v", sy.Plugs, sc.Plugs)
	}
	if !sameYAML(sc.Slots, sy.Slots) {
		p.add("meta/snap.yaml: slots is %v, snapcraft.yaml says %v", sy.Slots, sc.Slots)
	}
	p.compareEntries("app", sc.Apps, sy.Apps)
	p.compareEntries("hook", sc.Hooks, sy.Hooks)
}

// compareEntries compares apps or hooks key by key, so that a lost
// restart-condition or plug is named rather than reported as "differs".
func (p *problems) compareEntries(kind string, want, got map[string]map[string]any) {
	for _, name := range sortedKeys(want) {
		g, ok := got[name]
		if !ok {
			p.add("meta/snap.yaml: %s %s is missing", kind, name)
			continue
		}
		w := want[name]
		for _, key := range unionKeys(w, g) {
			if !sameYAML(w[key], g[key]) {
				p.add("meta/snap.yaml: %s %s: %s is %v, snapcraft.yaml says %v", kind, name, key, g[key], w[key])
			}
		}
	}
	for _, name := range sortedKeys(got) {
		if _, ok := want[name]; !ok {
			p.add("meta/snap.yaml: %s %s is not in snapcraft.yaml", kind, name)
		}
	}
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	return sortedKeys(seen)
}

// sameYAML compares two values as YAML sees them: an empty map and a
// missing one are the same, and so are []any and []string with equal items.
func sameYAML(a, b any) bool {
	na, nb := normalize(a), normalize(b)
	return reflect.DeepEqual(na, nb)
}

func normalize(v any) any {
	data, err := yaml.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := yaml.Unmarshal(data, &out); err != nil {
		return v
	}
	if m, ok := out.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	return out
}

func (p *problems) checkFiles(primeDir string, sc *Snapcraft, sy *SnapYAML) {
	machine := elfMachine(firstOr(sy.Architectures, ""))
	for _, name := range sortedKeys(sy.Apps) {
		cmd := commandPath(sy.Apps[name])
		if cmd == "" {
			p.add("app %s: no command", name)
			continue
		}
		p.checkBinary(primeDir, cmd, "app "+name, machine)
	}
	hooksDir := filepath.Join(primeDir, "meta", "hooks")
	for _, name := range sortedKeys(sy.Hooks) {
		rel := filepath.Join("meta", "hooks", name)
		data, ok := p.checkExecutable(primeDir, rel, "hook "+name)
		if !ok {
			continue
		}
		if target, isWrapper := wrapperTarget(data); isWrapper {
			p.checkBinary(primeDir, target, "hook "+name, machine)
		} else {
			p.checkStatic(filepath.Join(primeDir, rel), "hook "+name, machine)
		}
	}
	// snapd runs any executable in meta/hooks as a hook, declared or not.
	entries, err := os.ReadDir(hooksDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		p.add("cannot read %s: %v", hooksDir, err)
	}
	for _, e := range entries {
		if _, ok := sc.Hooks[e.Name()]; !ok {
			p.add("meta/hooks/%s: hook not declared in snapcraft.yaml", e.Name())
		}
	}
}

// checkBinary checks that rel is an executable static ELF.
func (p *problems) checkBinary(primeDir, rel, who string, machine elf.Machine) {
	if _, ok := p.checkExecutable(primeDir, rel, who); ok {
		p.checkStatic(filepath.Join(primeDir, rel), who, machine)
	}
}

// checkExecutable checks that rel is a regular executable file and returns
// its first bytes (enough to tell a script from an ELF).
func (p *problems) checkExecutable(primeDir, rel, who string) ([]byte, bool) {
	path := filepath.Join(primeDir, rel)
	st, err := os.Stat(path)
	if err != nil {
		p.add("%s: %s does not exist", who, rel)
		return nil, false
	}
	if !st.Mode().IsRegular() {
		p.add("%s: %s is not a regular file", who, rel)
		return nil, false
	}
	if st.Mode().Perm()&0o111 != 0o111 {
		p.add("%s: %s is not executable by everyone (mode %#o)", who, rel, st.Mode().Perm())
		return nil, false
	}
	f, err := os.Open(path)
	if err != nil {
		p.add("%s: cannot open %s: %v", who, rel, err)
		return nil, false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	return head[:n], true
}

// wrapperTarget recognises snapcraft's hook wrapper and returns the file
// it runs, relative to $SNAP.
func wrapperTarget(data []byte) (string, bool) {
	if !bytes.HasPrefix(data, []byte("#!")) {
		return "", false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, `exec "$SNAP/`)
		if !ok {
			continue
		}
		target, _, ok := strings.Cut(rest, `"`)
		if ok {
			return target, true
		}
	}
	return "", false
}

func (p *problems) checkStatic(path, who string, machine elf.Machine) {
	if err := CheckStatic(path, machine); err != nil {
		p.add("%s: %v", who, err)
	}
}

// CheckStatic verifies that path is an ELF executable with no program
// interpreter (PT_INTERP) and no shared library dependency (DT_NEEDED), so
// that it runs on any base; machine, when not zero, is the ELF machine the
// file must be built for. DT_NEEDED is looked for in the dynamic segment
// itself, not only in section headers, which a stripped file may lack.
func CheckStatic(path string, machine elf.Machine) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not an ELF file: %v", filepath.Base(path), err)
	}
	defer f.Close()
	name := filepath.Base(path)
	if machine != elf.EM_NONE && f.Machine != machine {
		return fmt.Errorf("%s is built for %v, the snap for %v", name, f.Machine, machine)
	}
	segmentNeeded := 0
	for _, prog := range f.Progs {
		switch prog.Type {
		case elf.PT_INTERP:
			interp, _ := io.ReadAll(io.LimitReader(prog.Open(), 4096))
			return fmt.Errorf("%s is dynamically linked: program interpreter %s", name, strings.TrimRight(string(interp), "\x00"))
		case elf.PT_DYNAMIC:
			n, err := dynamicNeeded(f, prog)
			if err != nil {
				return fmt.Errorf("cannot read the dynamic segment of %s: %v", name, err)
			}
			segmentNeeded += n
		}
	}
	libs, _ := f.ImportedLibraries()
	if len(libs) > 0 {
		sort.Strings(libs)
		return fmt.Errorf("%s needs shared libraries: %s", name, strings.Join(libs, ", "))
	}
	if segmentNeeded > 0 {
		return fmt.Errorf("%s needs %d shared libraries (DT_NEEDED)", name, segmentNeeded)
	}
	return nil
}

// dynamicNeeded counts the DT_NEEDED entries of a PT_DYNAMIC segment.
func dynamicNeeded(f *elf.File, prog *elf.Prog) (int, error) {
	data, err := io.ReadAll(prog.Open())
	if err != nil {
		return 0, err
	}
	size := 16
	if f.Class == elf.ELFCLASS32 {
		size = 8
	}
	n := 0
	for off := 0; off+size <= len(data); off += size {
		var tag uint64
		if size == 16 {
			tag = f.ByteOrder.Uint64(data[off:])
		} else {
			tag = uint64(f.ByteOrder.Uint32(data[off:]))
		}
		if elf.DynTag(tag) == elf.DT_NULL {
			break
		}
		if elf.DynTag(tag) == elf.DT_NEEDED {
			n++
		}
	}
	return n, nil
}

// elfMachine is the ELF machine of a snap architecture; EM_NONE when unknown.
func elfMachine(arch string) elf.Machine {
	switch arch {
	case "amd64":
		return elf.EM_X86_64
	case "arm64":
		return elf.EM_AARCH64
	case "armhf":
		return elf.EM_ARM
	case "i386":
		return elf.EM_386
	case "ppc64el":
		return elf.EM_PPC64
	case "riscv64":
		return elf.EM_RISCV
	case "s390x":
		return elf.EM_S390
	}
	return elf.EM_NONE
}

// commandPath is the file an app's command runs, relative to $SNAP.
func commandPath(app map[string]any) string {
	cmd, _ := app["command"].(string)
	fields := strings.Fields(cmd)
	if len(fields) == 0 {
		return ""
	}
	return strings.TrimPrefix(strings.TrimPrefix(fields[0], "$SNAP/"), "${SNAP}/")
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

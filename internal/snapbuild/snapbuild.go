// Package snapbuild turns snapcraft.yaml and built binaries into a primed
// snap tree, the way snapcraft lays it out, so that the same tree can be
// run by snapsim, packed by snap pack and checked by tests. Check and
// CheckListing verify a primed tree and a packed .snap against
// snapcraft.yaml.
package snapbuild

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"gopkg.in/yaml.v3"
)

// Snapcraft is snapcraft.yaml: the keys that reach meta/snap.yaml and the
// parts, which Lint reads.
type Snapcraft struct {
	Name            string                    `yaml:"name"`
	Version         string                    `yaml:"version,omitempty"`
	AdoptInfo       string                    `yaml:"adopt-info,omitempty"`
	Base            string                    `yaml:"base"`
	Summary         string                    `yaml:"summary"`
	Description     string                    `yaml:"description"`
	Grade           string                    `yaml:"grade"`
	Confinement     string                    `yaml:"confinement"`
	License         string                    `yaml:"license,omitempty"`
	Platforms       map[string]any            `yaml:"platforms,omitempty"`
	SystemUsernames map[string]string         `yaml:"system-usernames,omitempty"`
	Plugs           map[string]any            `yaml:"plugs,omitempty"`
	Slots           map[string]any            `yaml:"slots,omitempty"`
	Apps            map[string]map[string]any `yaml:"apps"`
	Hooks           map[string]map[string]any `yaml:"hooks,omitempty"`
	Parts           map[string]Part           `yaml:"parts"`
}

// Part is one snapcraft part, as far as Lint reads it.
type Part struct {
	Plugin           string              `yaml:"plugin"`
	Source           string              `yaml:"source"`
	BuildSnaps       []string            `yaml:"build-snaps"`
	BuildEnvironment []map[string]string `yaml:"build-environment"`
	OverrideBuild    string              `yaml:"override-build"`
	OverridePull     string              `yaml:"override-pull"`
	OverrideStage    string              `yaml:"override-stage"`
	OverridePrime    string              `yaml:"override-prime"`
}

// SnapYAML is meta/snap.yaml, its keys in the order snapcraft writes them.
type SnapYAML struct {
	Name            string                    `yaml:"name"`
	Version         string                    `yaml:"version"`
	Summary         string                    `yaml:"summary"`
	Description     string                    `yaml:"description"`
	License         string                    `yaml:"license,omitempty"`
	Architectures   []string                  `yaml:"architectures"`
	Base            string                    `yaml:"base"`
	Apps            map[string]map[string]any `yaml:"apps"`
	Confinement     string                    `yaml:"confinement"`
	Grade           string                    `yaml:"grade"`
	Environment     map[string]string         `yaml:"environment,omitempty"`
	Plugs           map[string]any            `yaml:"plugs,omitempty"`
	Slots           map[string]any            `yaml:"slots,omitempty"`
	Hooks           map[string]map[string]any `yaml:"hooks,omitempty"`
	SystemUsernames map[string]string         `yaml:"system-usernames,omitempty"`
}

// snapcraftEnvironment is what snapcraft adds to every core22+ snap.yaml that
// sets no environment of its own.
var snapcraftEnvironment = map[string]string{
	"LD_LIBRARY_PATH": "${SNAP_LIBRARY_PATH}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}",
	"PATH":            "$SNAP/usr/sbin:$SNAP/usr/bin:$SNAP/sbin:$SNAP/bin:$PATH",
}

// HookWrapper is the meta/hooks/<name> script snapcraft writes for a hook a
// part built into snap/hooks/<name>: the hook binary stays where the part put
// it and snapd runs the wrapper.
func HookWrapper(name string) string {
	return "#!/bin/sh\nexec \"$SNAP/snap/hooks/" + name + "\" \"$@\"\n"
}

// Read parses snapcraft.yaml.
func Read(path string) (*Snapcraft, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, err)
	}
	var sc Snapcraft
	if err := yaml.Unmarshal(data, &sc); err != nil {
		return nil, fmt.Errorf("cannot parse %s: %v", path, err)
	}
	return &sc, nil
}

// ReadSnapYAML parses a primed tree's meta/snap.yaml.
func ReadSnapYAML(primeDir string) (*SnapYAML, error) {
	path := filepath.Join(primeDir, "meta", "snap.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, err)
	}
	var sy SnapYAML
	if err := yaml.Unmarshal(data, &sy); err != nil {
		return nil, fmt.Errorf("cannot parse %s: %v", path, err)
	}
	return &sy, nil
}

// Arch is the snap architecture of a Go GOARCH (Debian's names).
func Arch(goarch string) string {
	switch goarch {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	}
	return goarch
}

// ToSnapYAML derives meta/snap.yaml as snapcraft does: the same apps, hooks,
// plugs and system-usernames, the version adopted from the part, the build
// machine's architecture and snapcraft's default environment.
func (sc *Snapcraft) ToSnapYAML(version, arch string) *SnapYAML {
	hooks := map[string]map[string]any{}
	for name, h := range sc.Hooks {
		if h == nil {
			h = map[string]any{}
		}
		hooks[name] = copyMap(h)
	}
	apps := map[string]map[string]any{}
	for name, app := range sc.Apps {
		apps[name] = copyMap(app)
	}
	env := map[string]string{}
	for k, v := range snapcraftEnvironment {
		env[k] = v
	}
	return &SnapYAML{
		Name: sc.Name, Version: version, Summary: sc.Summary, Description: sc.Description,
		License: sc.License, Architectures: []string{arch}, Base: sc.Base, Apps: apps,
		Confinement: sc.Confinement, Grade: sc.Grade, Environment: env,
		Plugs: sc.Plugs, Slots: sc.Slots, Hooks: hooks, SystemUsernames: sc.SystemUsernames,
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Prime writes the snap tree into out as snapcraft's prime step leaves it
// for this snapcraft.yaml: app commands under bin/, the hooks the part built
// under snap/hooks/ with snapcraft's wrappers in meta/hooks/, the default
// option files under configs/, and meta/snap.yaml.
func Prime(snapcraftPath, binDir, configsDir, out, version string) error {
	sc, err := Read(snapcraftPath)
	if err != nil {
		return err
	}
	if version == "" {
		return fmt.Errorf("cannot prime: no version given")
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for _, d := range []string{"meta/hooks", "snap/hooks", "bin", "configs"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	data, err := yaml.Marshal(sc.ToSnapYAML(version, Arch(runtime.GOARCH)))
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(out, "meta", "snap.yaml"), data, 0o644); err != nil {
		return err
	}
	for _, name := range sortedKeys(sc.Apps) {
		cmd := commandPath(sc.Apps[name])
		if cmd == "" {
			return fmt.Errorf("cannot prime: app %s has no command", name)
		}
		if err := copyFile(filepath.Join(binDir, filepath.Base(cmd)), filepath.Join(out, cmd), 0o755); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(sc.Hooks) {
		if err := copyFile(filepath.Join(binDir, "hooks", name), filepath.Join(out, "snap", "hooks", name), 0o755); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(out, "meta", "hooks", name), []byte(HookWrapper(name)), 0o755); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(configsDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".yaml" {
			if err := copyFile(filepath.Join(configsDir, e.Name()), filepath.Join(out, "configs", e.Name()), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeFile writes data with exactly mode: snap pack refuses files that are
// not readable by everyone, whatever the umask was.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("cannot prime: %v", err)
	}
	return os.Chmod(path, mode)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("cannot prime: %v", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("cannot prime: %v", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("cannot prime: %v", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("cannot prime: %v", err)
	}
	return os.Chmod(dst, mode)
}

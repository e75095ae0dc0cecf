// Package snapbuild turns snapcraft.yaml and built binaries into a primed
// snap tree, the way snapcraft lays it out, so that the same tree can be
// run by snapsim, packed by snap pack and checked by tests.
package snapbuild

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"
)

// Snapcraft is the part of snapcraft.yaml that reaches meta/snap.yaml.
type Snapcraft struct {
	Name            string                    `yaml:"name"`
	Base            string                    `yaml:"base"`
	Summary         string                    `yaml:"summary"`
	Description     string                    `yaml:"description"`
	Grade           string                    `yaml:"grade"`
	Confinement     string                    `yaml:"confinement"`
	License         string                    `yaml:"license,omitempty"`
	SystemUsernames map[string]string         `yaml:"system-usernames,omitempty"`
	Apps            map[string]map[string]any `yaml:"apps"`
	Hooks           map[string]map[string]any `yaml:"hooks,omitempty"`
}

// SnapYAML is meta/snap.yaml.
type SnapYAML struct {
	Name            string                    `yaml:"name"`
	Version         string                    `yaml:"version"`
	Summary         string                    `yaml:"summary"`
	Description     string                    `yaml:"description"`
	Base            string                    `yaml:"base"`
	Grade           string                    `yaml:"grade"`
	Confinement     string                    `yaml:"confinement"`
	License         string                    `yaml:"license,omitempty"`
	Architectures   []string                  `yaml:"architectures"`
	SystemUsernames map[string]string         `yaml:"system-usernames,omitempty"`
	Apps            map[string]map[string]any `yaml:"apps"`
	Hooks           map[string]map[string]any `yaml:"hooks,omitempty"`
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

// ToSnapYAML derives meta/snap.yaml as snapcraft does: same apps and hooks,
// with the given version and the build machine's architecture.
func (sc *Snapcraft) ToSnapYAML(version, arch string) *SnapYAML {
	apps := map[string]map[string]any{}
	for name, app := range sc.Apps {
		a := map[string]any{}
		for k, v := range app {
			a[k] = v
		}
		apps[name] = a
	}
	hooks := map[string]map[string]any{}
	for name, h := range sc.Hooks {
		if h == nil {
			h = map[string]any{}
		}
		hooks[name] = h
	}
	return &SnapYAML{
		Name: sc.Name, Version: version, Summary: sc.Summary, Description: sc.Description,
		Base: sc.Base, Grade: sc.Grade, Confinement: sc.Confinement, License: sc.License,
		Architectures: []string{arch}, SystemUsernames: sc.SystemUsernames, Apps: apps, Hooks: hooks,
	}
}

// Prime writes the snap tree into out.
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
	for _, d := range []string{"meta/hooks", "bin", "configs"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	sy := sc.ToSnapYAML(version, "amd64")
	data, err := yaml.Marshal(sy)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "meta", "snap.yaml"), data, 0o644); err != nil {
		return err
	}
	names := make([]string, 0, len(sc.Apps))
	for name := range sc.Apps {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cmd, _ := sc.Apps[name]["command"].(string)
		if cmd == "" {
			return fmt.Errorf("cannot prime: app %s has no command", name)
		}
		if err := copyFile(filepath.Join(binDir, filepath.Base(cmd)), filepath.Join(out, cmd), 0o755); err != nil {
			return err
		}
	}
	for name := range sc.Hooks {
		if err := copyFile(filepath.Join(binDir, "hooks", name), filepath.Join(out, "meta", "hooks", name), 0o755); err != nil {
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
	return out.Close()
}

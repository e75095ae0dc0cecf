package snapbuild

import (
	"slices"
	"strings"
)

// RequiredHooks are the hooks the snap ships: install and configure render
// the configuration, post-refresh renders it again for the new revision.
var RequiredHooks = []string{"install", "configure", "post-refresh"}

// Lint checks the snap's own rules for snapcraft.yaml, which snapcraft
// cannot know: a strict core24 snap whose version is the etcd version
// (adopt-info plus craftctl set version), static reproducible Go binaries,
// the hooks built by the part into snap/hooks, daemons that restart on
// failure, the network plugs, and the snap_daemon user.
func (sc *Snapcraft) Lint() error {
	var p problems
	if sc.Base != "core24" {
		p.add("base is %q, want core24", sc.Base)
	}
	if sc.Confinement != "strict" {
		p.add("confinement is %q, want strict", sc.Confinement)
	}
	if sc.SystemUsernames["snap_daemon"] != "shared" {
		p.add("system-usernames must have snap_daemon: shared (the daemon drops to it)")
	}
	if sc.Version != "" {
		p.add("version is fixed to %q: adopt it from the part with craftctl set version", sc.Version)
	}
	adopt, ok := sc.Parts[sc.AdoptInfo]
	switch {
	case sc.AdoptInfo == "":
		p.add("no adopt-info: the version must come from the part (the etcd version)")
	case !ok:
		p.add("adopt-info names part %q, which does not exist", sc.AdoptInfo)
	case !strings.Contains(adopt.OverridePull+adopt.OverrideBuild+adopt.OverrideStage+adopt.OverridePrime, "craftctl set version="):
		p.add("part %s sets no version: call craftctl set version= in one of its override scripts", sc.AdoptInfo)
	}
	built := ""
	for _, name := range sortedKeys(sc.Parts) {
		part := sc.Parts[name]
		if part.Plugin != "go" {
			continue
		}
		env := map[string]string{}
		for _, kv := range part.BuildEnvironment {
			for k, v := range kv {
				env[k] = v
			}
		}
		if env["CGO_ENABLED"] != "0" {
			p.add("part %s: build-environment must set CGO_ENABLED: \"0\" (static binaries)", name)
		}
		if !strings.Contains(env["GOFLAGS"], "-trimpath") && !strings.Contains(part.OverrideBuild, "-trimpath") {
			p.add("part %s: build with -trimpath (GOFLAGS in build-environment)", name)
		}
		if !hasBuildSnap(part.BuildSnaps, "go") {
			p.add("part %s: the go plugin needs go: add build-snaps: [go/<track>/stable]", name)
		}
		built += part.OverrideBuild
	}
	if !strings.Contains(built, "$CRAFT_PART_INSTALL/snap/hooks/") {
		p.add("no part installs hooks into $CRAFT_PART_INSTALL/snap/hooks/")
	}
	for _, h := range RequiredHooks {
		if _, ok := sc.Hooks[h]; !ok {
			p.add("hook %s is not declared", h)
		}
	}
	for _, h := range sortedKeys(sc.Hooks) {
		if !strings.Contains(built, h) {
			p.add("hook %s is declared but no part builds it", h)
		}
	}
	for _, name := range sortedKeys(sc.Apps) {
		app := sc.Apps[name]
		if commandPath(app) == "" {
			p.add("app %s has no command", name)
		}
		plugs := stringList(app["plugs"])
		if _, isDaemon := app["daemon"]; isDaemon {
			if app["restart-condition"] == nil {
				p.add("daemon %s has no restart-condition", name)
			}
			for _, want := range []string{"network", "network-bind"} {
				if !slices.Contains(plugs, want) {
					p.add("daemon %s does not plug %s", name, want)
				}
			}
		}
	}
	return p.err()
}

func hasBuildSnap(snaps []string, name string) bool {
	for _, s := range snaps {
		if s == name || strings.HasPrefix(s, name+"/") {
			return true
		}
	}
	return false
}

func stringList(v any) []string {
	items, _ := v.([]any)
	var out []string
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Package snapinfo reads and validates meta/snap.yaml with snapd's own snap
// package, the way snapd checks a snap it is asked to install.
package snapinfo

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/snapcore/snapd/arch"
	// Parsing plugs and slots needs the interface definitions.
	_ "github.com/snapcore/snapd/interfaces/builtin"
	"github.com/snapcore/snapd/snap"
	"github.com/snapcore/snapd/snap/snapdir"
)

// ReadDir reads and validates the primed snap tree at dir as revision rev, as
// snapd's install does for a local snap: snap.yaml parsed, implicit hooks
// added, snap.Validate, the container's permissions checked
// (snap.ValidateSnapContainer) and the architecture matched.
func ReadDir(dir string, rev snap.Revision) (*snap.Info, error) {
	if !snapdir.IsSnapDir(dir) {
		return nil, fmt.Errorf("%q does not contain an unpacked snap", dir)
	}
	c := snapdir.New(dir)
	info, err := snap.ReadInfoFromSnapFile(c, &snap.SideInfo{Revision: rev})
	if err != nil {
		return nil, fmt.Errorf("cannot read snap in %q: %v", dir, err)
	}
	if err := snap.ValidateSnapContainer(c, info, func(string, ...interface{}) {}); err != nil {
		return nil, fmt.Errorf("%v; contact developer", err)
	}
	if err := checkArch(info); err != nil {
		return nil, err
	}
	if err := checkSystemUsernames(info); err != nil {
		return nil, err
	}
	return info, nil
}

// ReadInstalled reads the snap installed at mountDir (no container checks:
// they passed at install time).
func ReadInstalled(mountDir string, rev snap.Revision) (*snap.Info, error) {
	c := snapdir.New(mountDir)
	info, err := snap.ReadInfoFromSnapFile(c, &snap.SideInfo{Revision: rev})
	if err != nil {
		return nil, fmt.Errorf("cannot read installed snap in %q: %v", filepath.Clean(mountDir), err)
	}
	return info, nil
}

func checkArch(info *snap.Info) error {
	// same rule as snapstate.validateInfoAndFlags
	if !arch.IsSupportedArchitecture(info.Architectures) {
		return fmt.Errorf("snap %q supported architectures (%s) are incompatible with this system (%s)",
			info.InstanceName(), strings.Join(info.Architectures, ", "), arch.DpkgArchitecture())
	}
	return nil
}

// checkSystemUsernames is snapstate.validateSystemUsernames. snapsim does not
// create the users (that would change the host's passwd database).
func checkSystemUsernames(si *snap.Info) error {
	for _, user := range si.SystemUsernames {
		if _, ok := snap.SupportedSystemUsernames[user.Name]; !ok {
			return fmt.Errorf(`snap %q requires unsupported system username "%s"`, si.InstanceName(), user.Name)
		}
		switch user.Scope {
		case "shared":
			continue
		case "private", "external":
			return fmt.Errorf(`snap %q requires unsupported user scope "%s" for this version of snapd`, si.InstanceName(), user.Scope)
		default:
			return fmt.Errorf(`snap %q requires unsupported user scope "%s"`, si.InstanceName(), user.Scope)
		}
	}
	return nil
}

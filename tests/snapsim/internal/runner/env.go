// Package runner builds the environment and command line snapd gives a snap's
// apps, daemons and hooks (snap run + snap-confine + snap-exec), and runs hooks
// the way snapd's hook manager does.
package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/snapcore/snapd/arch"
	"github.com/snapcore/snapd/osutil"
	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
)

// CorePath is the PATH snap-confine resets every app and hook to.
const CorePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games"

// SystemdPath is the PATH systemd (and so snapd) runs services with.
const SystemdPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// LibraryPath is snapd's fixed SNAP_LIBRARY_PATH.
const LibraryPath = "/var/lib/snapd/lib/gl:/var/lib/snapd/lib/gl32:/var/lib/snapd/void"

// PassEnvVar names a comma-separated list of variables that snapsim copies
// from its own environment into daemons and hooks (standing in for what
// systemd and /etc/environment would give them).
const PassEnvVar = "SNAPSIM_PASSENV"

// Context says who runs the process.
type Context struct {
	Root layout.Root
	Info *snap.Info
	// UID and EUID are the ids of the process (snapd's SNAP_UID/SNAP_EUID).
	UID, EUID int
}

// Rev returns the revision as a string ("x1", "3").
func (c *Context) Rev() string { return c.Info.Revision.String() }

// MountDir is $SNAP.
func (c *Context) MountDir() string { return c.Root.MountDir(c.Info.SnapName(), c.Rev()) }

// SystemLang is the LANG systemd (252, no locale configured) gives snapd and
// services, so hooks and daemons run with it (tests/snapd/FINDINGS.md).
const SystemLang = "C.UTF-8"

// SystemEnv is the environment systemd gives services and snapd gives hooks:
// PATH and LANG, plus whatever SNAPSIM_PASSENV names.
func SystemEnv() osutil.Environment {
	env := osutil.Environment{"PATH": SystemdPath, "LANG": SystemLang}
	for _, name := range strings.Split(os.Getenv(PassEnvVar), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if v, ok := os.LookupEnv(name); ok {
			env[name] = v
		}
	}
	return env
}

// OSEnv returns the calling process's environment (what `snap run` starts from).
func OSEnv() osutil.Environment {
	env, err := osutil.OSEnvironment()
	if err != nil {
		env = osutil.Environment{}
	}
	return env
}

// SnapEnv is snapd's snapenv basicEnv + userEnv with paths under the root.
func (c *Context) SnapEnv() osutil.Environment {
	info := c.Info
	name := info.SnapName()
	rev := c.Rev()
	env := osutil.Environment{
		"SNAP":               c.MountDir(),
		"SNAP_COMMON":        c.Root.CommonDir(name),
		"SNAP_DATA":          c.Root.DataDir(name, rev),
		"SNAP_NAME":          name,
		"SNAP_INSTANCE_NAME": info.InstanceName(),
		"SNAP_INSTANCE_KEY":  info.InstanceKey,
		"SNAP_VERSION":       info.Version,
		"SNAP_REVISION":      rev,
		"SNAP_ARCH":          arch.DpkgArchitecture(),
		"SNAP_LIBRARY_PATH":  LibraryPath,
		"SNAP_REEXEC":        "",
		"SNAP_UID":           fmt.Sprint(c.UID),
		"SNAP_EUID":          fmt.Sprint(c.EUID),
	}
	home := c.Root.HomeDir(c.UID)
	env["SNAP_USER_COMMON"] = layout.UserCommonDir(home, name)
	env["SNAP_USER_DATA"] = layout.UserDataDir(home, name, rev)
	env["XDG_RUNTIME_DIR"] = c.Root.XdgRuntimeDir(c.EUID, name)
	if !info.NeedsClassic() {
		env["HOME"] = layout.UserDataDir(home, name, rev)
	}
	env["SNAP_REAL_HOME"] = home
	return env
}

// confine applies what snap-confine does to the environment.
func (c *Context) confine(env osutil.Environment, cookie string) {
	env["PATH"] = c.Root.BinDir() + ":" + CorePath
	env["TMPDIR"] = "/tmp"
	env["TEMPDIR"] = "/tmp"
	if cookie != "" {
		env["SNAP_COOKIE"] = cookie
		env["SNAP_CONTEXT"] = cookie
	}
}

// AppEnv is the environment of app started from base (the caller's
// environment for `run`, SystemEnv for daemons), with the snap's app cookie.
func (c *Context) AppEnv(app *snap.AppInfo, base osutil.Environment, cookie string) osutil.Environment {
	env := copyEnv(base)
	for k, v := range c.SnapEnv() {
		env[k] = v
	}
	c.confine(env, cookie)
	for _, eenv := range app.EnvChain() {
		env.ExtendWithExpanded(eenv)
	}
	return env
}

// DaemonEnv is the environment of a daemon started from base (SystemEnv):
// systemd adds PWD for the unit's WorkingDirectory ($SNAP_DATA).
func (c *Context) DaemonEnv(app *snap.AppInfo, base osutil.Environment, cookie string) osutil.Environment {
	b := copyEnv(base)
	b["PWD"] = c.Root.DataDir(c.Info.SnapName(), c.Rev())
	return c.AppEnv(app, b, cookie)
}

// HookEnv is the environment of a hook; hookCookie identifies the hook's
// context (snapd sets SNAP_COOKIE and SNAP_CONTEXT to the context id).
func (c *Context) HookEnv(hook *snap.HookInfo, base osutil.Environment, hookCookie string) osutil.Environment {
	env := copyEnv(base)
	env["SNAP_COOKIE"] = hookCookie
	env["SNAP_CONTEXT"] = hookCookie
	for k, v := range c.SnapEnv() {
		env[k] = v
	}
	// snap-confine does not replace a hook's cookie
	c.confine(env, "")
	for _, eenv := range hook.EnvChain() {
		env.ExtendWithExpanded(eenv)
	}
	return env
}

func copyEnv(base osutil.Environment) osutil.Environment {
	env := make(osutil.Environment, len(base)+32)
	for k, v := range base {
		if strings.HasPrefix(k, "SNAPSIM_") {
			continue
		}
		env[k] = v
	}
	return env
}

// EnsureUserDirs creates the per-user directories snap run and snap-confine
// create: $SNAP_USER_DATA (with its "current" link), $SNAP_USER_COMMON and
// $XDG_RUNTIME_DIR.
func (c *Context) EnsureUserDirs() error {
	name := c.Info.SnapName()
	home := c.Root.HomeDir(c.UID)
	udata := layout.UserDataDir(home, name, c.Rev())
	for _, d := range []string{udata, layout.UserCommonDir(home, name)} {
		if err := os.MkdirAll(d, 0755); err != nil {
			return err
		}
	}
	cur := filepath.Join(filepath.Dir(udata), "current")
	if target, err := os.Readlink(cur); err != nil || target != c.Rev() {
		tmp := cur + ".new"
		os.Remove(tmp)
		if err := os.Symlink(c.Rev(), tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, cur); err != nil {
			return err
		}
	}
	return os.MkdirAll(c.Root.XdgRuntimeDir(c.EUID, name), 0700)
}

// AppCommand is snap-exec's command line for app: the command chain, then
// $SNAP/<command> with its arguments expanded from env (empty expansions
// dropped), then args. which is "" for the app's command, or "stop",
// "post-stop" or "reload".
func (c *Context) AppCommand(app *snap.AppInfo, which string, env osutil.Environment, args []string) ([]string, error) {
	var cmdAndArgs string
	switch which {
	case "":
		cmdAndArgs = app.Command
	case "stop":
		cmdAndArgs = app.StopCommand
	case "post-stop":
		cmdAndArgs = app.PostStopCommand
	case "reload":
		cmdAndArgs = app.ReloadCommand
	default:
		return nil, fmt.Errorf("cannot use %q command", which)
	}
	if cmdAndArgs == "" {
		return nil, fmt.Errorf("no %q command found for %q", which, app.Name)
	}
	mountDir := c.MountDir()
	tmpArgv := strings.Split(cmdAndArgs, " ")
	full := []string{filepath.Join(mountDir, tmpArgv[0])}
	for _, arg := range tmpArgv[1:] {
		expanded := os.Expand(arg, func(k string) string { return env[k] })
		if expanded != "" {
			full = append(full, expanded)
		}
	}
	full = append(full, args...)
	return append(chain(mountDir, app.CommandChain), full...), nil
}

// HookCommand is snap-exec's command line for a hook.
func (c *Context) HookCommand(hook *snap.HookInfo) []string {
	mountDir := c.MountDir()
	return append(chain(mountDir, hook.CommandChain), filepath.Join(mountDir, "meta", "hooks", hook.Name))
}

func chain(mountDir string, cc []string) []string {
	out := make([]string, 0, len(cc)+1)
	for _, e := range cc {
		out = append(out, filepath.Join(mountDir, e))
	}
	return out
}

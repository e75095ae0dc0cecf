package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/layout"
)

const lifecycleYaml = `name: demo
version: '%s'
apps:
  daemon:
    command: bin/daemon
    daemon: simple
  tool:
    command: bin/tool
    environment:
      TOOL_VAR: $SNAP_DATA/tool
`

const lifecycleDaemon = `#!/bin/sh
echo "$SNAP_REVISION" > "$SNAP_COMMON/daemon-rev"
trap 'exit 0' TERM
while :; do sleep 0.05; done
`

// the tool prints its view and drives snapctl outside any hook
const lifecycleTool = `#!/bin/sh
echo "args=$*"
echo "TOOL_VAR=$TOOL_VAR"
echo "HOME=$HOME"
echo "stdin=$(cat)"
snapctl set from-app=1 || exit 10
snapctl get -d from-app
exit 3
`

func lifecycleSnap(t *testing.T, version string, extra map[string]string) string {
	files := map[string]string{
		"bin/daemon":         lifecycleDaemon,
		"bin/tool":           lifecycleTool,
		"meta/hooks/install": "#!/bin/sh\necho \"installed as $SNAP_REVISION\" > \"$SNAP_DATA/data-file\"\n",
		"meta/hooks/remove":  "#!/bin/sh\necho removed > \"$MARKER\"\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	return writeSnap(t, strings.Replace(lifecycleYaml, "%s", version, 1), files)
}

func TestRefresh(t *testing.T) {
	root := newRoot(t)
	v1 := lifecycleSnap(t, "1.0", nil)
	postRefresh := "#!/bin/sh\necho \"post-refresh rev=$SNAP_REVISION data=$(cat \"$SNAP_DATA/data-file\")\" > \"$SNAP_COMMON/post-refresh\"\n"
	v2 := lifecycleSnap(t, "2.0", map[string]string{"meta/hooks/post-refresh": postRefresh})

	mustSnapsim(t, root, "install", v1)
	common := filepath.Join(root, "var/snap/demo/common")
	eventually(t, 5*time.Second, "daemon of x1", func() bool {
		data, _ := os.ReadFile(filepath.Join(common, "daemon-rev"))
		return string(data) == "x1\n"
	})
	// $SNAP is read-only
	if err := os.WriteFile(filepath.Join(root, "snap/demo/x1/new-file"), nil, 0644); err == nil && os.Geteuid() != 0 {
		t.Errorf("$SNAP is writable")
	}
	if fi, err := os.Stat(filepath.Join(root, "snap/demo/x1/bin/tool")); err != nil || fi.Mode().Perm()&0222 != 0 {
		t.Errorf("$SNAP file keeps write bits: %v %v", fi.Mode(), err)
	}

	if out := mustSnapsim(t, root, "refresh", v2); out != "demo 2.0 refreshed\n" {
		t.Errorf("refresh output %q", out)
	}
	if got := readFile(t, filepath.Join(common, "post-refresh")); got != "post-refresh rev=x2 data=installed as x1\n" {
		t.Errorf("post-refresh saw %q", got)
	}
	if got := readFile(t, filepath.Join(root, "var/snap/demo/x2/data-file")); got != "installed as x1\n" {
		t.Errorf("SNAP_DATA not copied: %q", got)
	}
	for _, link := range []string{"snap/demo/current", "var/snap/demo/current"} {
		if target, err := os.Readlink(filepath.Join(root, link)); err != nil || target != "x2" {
			t.Errorf("%s -> %q (%v)", link, target, err)
		}
	}
	// the enabled daemon was stopped and runs the new revision
	eventually(t, 5*time.Second, "daemon of x2", func() bool {
		data, _ := os.ReadFile(filepath.Join(common, "daemon-rev"))
		return string(data) == "x2\n"
	})
	if got := mustSnapsim(t, root, "services"); !strings.Contains(got, "demo.daemon  enabled  active") {
		t.Errorf("services after refresh: %q", got)
	}
	if got := mustSnapsim(t, root, "list"); !strings.Contains(got, "demo  2.0      x2") {
		t.Errorf("list after refresh: %q", got)
	}
	// installing over an installed snap refreshes it; only two revisions are kept
	if out := mustSnapsim(t, root, "install", v1); out != "demo 1.0 installed\n" {
		t.Errorf("install over: %q", out)
	}
	if _, err := os.Stat(filepath.Join(root, "snap/demo/x1")); !os.IsNotExist(err) {
		t.Errorf("x1 not cleaned up: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "snap/demo/x3/meta/snap.yaml")); err != nil {
		t.Errorf("x3 missing: %v", err)
	}
}

func TestRefreshFailureRollsBack(t *testing.T) {
	root := newRoot(t)
	mustSnapsim(t, root, "install", lifecycleSnap(t, "1.0", nil))
	bad := lifecycleSnap(t, "2.0", map[string]string{"meta/hooks/post-refresh": "#!/bin/sh\necho nope >&2\nexit 1\n"})
	r := snapsim(t, root, "refresh", bad)
	want := "error: cannot perform the following tasks:\n- Run post-refresh hook of \"demo\" snap if present (run hook \"post-refresh\": nope)\n"
	if r.code != 1 || r.stderr != want {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	if target, _ := os.Readlink(filepath.Join(root, "snap/demo/current")); target != "x1" {
		t.Errorf("current -> %q after failed refresh", target)
	}
	if _, err := os.Stat(filepath.Join(root, "snap/demo/x2")); !os.IsNotExist(err) {
		t.Errorf("x2 left behind")
	}
	common := filepath.Join(root, "var/snap/demo/common")
	eventually(t, 5*time.Second, "old daemon restarted", func() bool {
		return strings.Contains(mustSnapsim(t, root, "services"), "demo.daemon  enabled  active")
	})
	if got := readFile(t, filepath.Join(common, "daemon-rev")); got != "x1\n" {
		t.Errorf("daemon runs %q", got)
	}
}

func TestInstallFailureUndone(t *testing.T) {
	root := newRoot(t)
	dir := lifecycleSnap(t, "1.0", map[string]string{"meta/hooks/install": "#!/bin/sh\necho cannot install >&2\nexit 1\n"})
	r := snapsim(t, root, "install", dir)
	want := "error: cannot perform the following tasks:\n- Run install hook of \"demo\" snap if present (run hook \"install\": cannot install)\n"
	if r.code != 1 || r.stderr != want {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	for _, p := range []string{"snap/demo", "var/snap/demo"} {
		if _, err := os.Stat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("%s left behind", p)
		}
	}
	if r := snapsim(t, root, "list"); r.stdout != "" {
		t.Errorf("list after failed install: %q", r.stdout)
	}
}

func TestRemove(t *testing.T) {
	root := newRoot(t)
	marker := filepath.Join(t.TempDir(), "marker")
	t.Setenv("MARKER", marker)
	t.Setenv("SNAPSIM_PASSENV", "MARKER")
	mustSnapsim(t, root, "install", lifecycleSnap(t, "1.0", nil))
	if out := mustSnapsim(t, root, "remove"); out != "demo removed\n" {
		t.Errorf("remove output %q", out)
	}
	if got := readFile(t, marker); got != "removed\n" {
		t.Errorf("remove hook: %q", got)
	}
	for _, p := range []string{"snap/demo", "var/snap/demo", "root/snap/demo"} {
		if _, err := os.Stat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("%s left behind", p)
		}
	}
	if r := snapsim(t, root, "services"); r.stderr != "There are no services provided by installed snaps.\n" {
		t.Errorf("services after remove: %q", r.stderr)
	}
	if r := snapsim(t, root, "remove"); r.code != 1 {
		t.Errorf("second remove succeeded")
	}
}

func TestRunApp(t *testing.T) {
	root := newRoot(t)
	hook := "#!/bin/sh\nexit 0\n"
	mustSnapsim(t, root, "install", lifecycleSnap(t, "1.0", map[string]string{"meta/hooks/configure": hook}))
	r := execSnapsim(t, root, "input text", "run", "demo.tool", "a", "b c")
	want := "args=a b c\n" +
		"TOOL_VAR=" + root + "/var/snap/demo/x1/tool\n" +
		"HOME=" + layout.Root{Dir: root}.HomeDir(os.Getuid()) + "/snap/demo/x1\n" +
		"stdin=input text\n" +
		"{\n\t\"from-app\": 1\n}\n"
	if r.code != 3 || r.stdout != want {
		t.Errorf("run: exit %d\nstdout %q\nwant   %q\nstderr %q", r.code, r.stdout, want, r.stderr)
	}
	// snapctl set from an app commits at once
	if got := mustSnapsim(t, root, "get", "from-app"); got != "1\n" {
		t.Errorf("get from-app: %q", got)
	}
	if r := execSnapsim(t, root, "", "run", "demo.nope"); r.code != 1 || r.stderr != "error: cannot find app \"nope\" in \"demo\"\n" {
		t.Errorf("run demo.nope: %d %q", r.code, r.stderr)
	}
}

// Command prime lays out a snap tree from built binaries as snapcraft would
// from snapcraft.yaml: meta/snap.yaml (apps, hooks, system-usernames, with
// the build-only keys dropped), bin/, meta/hooks/ and configs/. It lets
// tests and the demo run the same tree snapcraft builds, on machines where
// snapcraft cannot run.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/canonical/charmed-etcd-snap/internal/snapbuild"
)

func main() {
	src := flag.String("snapcraft", "snapcraft.yaml", "snapcraft.yaml to read")
	bin := flag.String("bin", "bin", "directory of built binaries")
	configs := flag.String("configs", "configs", "directory of default option files")
	out := flag.String("o", "prime", "tree to write")
	version := flag.String("version", "", "snap version (the etcd version)")
	flag.Parse()
	if err := snapbuild.Prime(*src, *bin, *configs, *out, *version); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// Command check is charmed-etcd.check: it reports the running member
// against the etcd items of the CIS Kubernetes Benchmark (2.1 to 2.7) and
// the related file and profiling items, with evidence for each, and exits
// non-zero when any item fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/cis"
	"github.com/canonical/charmed-etcd-snap/internal/privs"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

func main() {
	asJSON := flag.Bool("json", false, "print the report as JSON")
	offline := flag.Bool("offline", false, "check the files only, without asking the running member")
	timeout := flag.Duration("timeout", 5*time.Second, "time limit of each request to the member")
	flag.Parse()
	env, err := snapenv.FromOS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	// Run as root, the check expects the hook's files to belong to
	// snap_daemon, and reads them as snap_daemon: under confinement root
	// cannot read or search what belongs to another user and is closed to
	// others. Nothing the check does needs root.
	owner := -1
	if os.Geteuid() == 0 {
		owner = snapenv.DaemonUID
		if err := privs.Drop(privs.ID{UID: snapenv.DaemonUID, GID: snapenv.DaemonGID}); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(2)
		}
	}
	r := cis.Check(context.Background(), cis.Options{Paths: snapenv.PathsOf(env), Owner: owner, Offline: *offline, Timeout: *timeout})
	if *asJSON {
		err = r.WriteJSON(os.Stdout)
	} else {
		err = r.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	if r.Failed() > 0 {
		os.Exit(1)
	}
}

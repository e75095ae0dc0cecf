// Command check verifies a primed snap tree, and optionally the .snap packed
// from it, against snapcraft.yaml: the snap's own rules for snapcraft.yaml
// (snapbuild.Lint), meta/snap.yaml against snapcraft.yaml with every app
// and hook present, executable and statically linked (snapbuild.Check), and
// the packed file's listing against the tree (snapbuild.CheckListing).
// make snap runs it after snap pack --check-skeleton.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/canonical/charmed-etcd-snap/internal/snapbuild"
)

func main() {
	prime := flag.String("prime", "prime", "primed snap tree")
	snapcraft := flag.String("snapcraft", "snapcraft.yaml", "snapcraft.yaml the tree was primed from")
	snapFile := flag.String("snap", "", "packed .snap to list with unsquashfs and compare with the tree")
	flag.Parse()
	if err := run(*prime, *snapcraft, *snapFile); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(prime, snapcraft, snapFile string) error {
	sc, err := snapbuild.Read(snapcraft)
	if err != nil {
		return err
	}
	if err := sc.Lint(); err != nil {
		return fmt.Errorf("cannot use %s:\n%v", snapcraft, err)
	}
	if err := snapbuild.Check(prime, snapcraft); err != nil {
		return fmt.Errorf("cannot use the primed tree %s:\n%v", prime, err)
	}
	fmt.Printf("%s: %d apps, %d hooks, all static, meta/snap.yaml agrees with %s\n", prime, len(sc.Apps), len(sc.Hooks), snapcraft)
	if snapFile == "" {
		return nil
	}
	entries, err := snapbuild.ListSnap(snapFile)
	if err != nil {
		return err
	}
	if err := snapbuild.CheckListing(prime, entries); err != nil {
		return fmt.Errorf("cannot use %s:\n%v", snapFile, err)
	}
	st, err := os.Stat(snapFile)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d entries, as primed; %d bytes (%.1f MiB)\n", snapFile, len(entries), st.Size(), float64(st.Size())/(1<<20))
	return nil
}

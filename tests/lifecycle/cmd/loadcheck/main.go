// Command loadcheck is the lifecycle scenarios' client: it runs inside a
// lab member's network namespace and puts load on the cluster, records
// every operation and reads certificate serials (see package loadcheck).
package main

import (
	"os"

	"github.com/canonical/charmed-etcd-snap/tests/lifecycle/loadcheck"
)

func main() {
	os.Exit(loadcheck.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

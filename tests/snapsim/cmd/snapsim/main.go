// Command snapsim is a local stand-in for snapd (see ../../README.md).
package main

import (
	"os"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, cli.IO{Stdout: os.Stdout, Stderr: os.Stderr}))
}

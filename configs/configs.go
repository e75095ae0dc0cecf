// Package configs holds the defaults of the snap's options in one place. The
// same files ship in the snap under $SNAP/configs for people to read; the
// binaries use the embedded copy so a damaged install cannot change them.
package configs

import _ "embed"

// Defaults is defaults.yaml: the value of every option that is not set.
//
//go:embed defaults.yaml
var Defaults []byte

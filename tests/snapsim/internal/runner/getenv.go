package runner

import "os"

var getenv = os.Getenv

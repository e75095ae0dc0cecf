package cis

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// fileItems check the modes and owners of what the hook writes: the
// rendered configuration (CIS 1.1.7/1.1.8 for the etcd pod specification),
// the data directory (1.1.11/1.1.12), the TLS directory and the private
// keys (as 1.1.21 for the PKI keys).
func fileItems(o Options, dataDir string) []Item {
	if dataDir == "" {
		dataDir = o.Paths.DataDir
	}
	cfg := newCheck("file.config", i18n.G("the rendered configuration is 0600 or stricter"))
	modeCheck(cfg, o.Paths.Config, false, o.Owner)
	data := newCheck("file.data-dir", i18n.G("the data directory is 0700 or stricter"))
	modeCheck(data, dataDir, true, o.Owner)
	tlsDir := newCheck("file.tls-dir", i18n.G("the TLS directory is 0700 or stricter"))
	modeCheck(tlsDir, o.Paths.TLSDir, true, o.Owner)
	keys := newCheck("file.keys", i18n.G("private keys are 0600 or stricter"))
	found, _ := filepath.Glob(filepath.Join(o.Paths.TLSDir, "*.key"))
	sort.Strings(found)
	if keys.expect(len(found) > 0, i18n.G("key files in %s: %s"), o.Paths.TLSDir, noneOr(found)) {
		for _, k := range found {
			modeCheck(keys, k, false, o.Owner)
		}
	}
	return []Item{cfg.Item, data.Item, tlsDir.Item, keys.Item}
}

// modeCheck fails c unless path exists with no group or other permission
// bits (0600 for files, 0700 for directories, or stricter) and, when
// owner is not -1, belongs to that uid.
func modeCheck(c *check, path string, dir bool, owner int) {
	st, err := os.Lstat(path)
	if err != nil {
		c.fail(i18n.G("%s: %v"), path, err)
		return
	}
	kind := "file"
	if dir {
		kind = "directory"
	}
	if st.IsDir() != dir || st.Mode()&os.ModeSymlink != 0 {
		c.fail(i18n.G("%s: not a %s (%s)"), path, kind, st.Mode().Type())
		return
	}
	perm := st.Mode().Perm()
	parts := []string{fmt.Sprintf(i18n.G("mode %04o"), perm)}
	good := perm&0o077 == 0
	if owner >= 0 {
		uid := -1
		if s, ok := st.Sys().(*syscall.Stat_t); ok {
			uid = int(s.Uid)
		}
		parts = append(parts, fmt.Sprintf(i18n.G("owner uid %d (want %d)"), uid, owner))
		good = good && uid == owner
	} else {
		parts = append(parts, i18n.G("owner not checked (not root)"))
	}
	c.expect(good, i18n.G("%s: %s"), path, strings.Join(parts, ", "))
}

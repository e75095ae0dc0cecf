package snapbuild

import (
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
)

// Entry is one file of a packed snap as `unsquashfs -lls` lists it.
type Entry struct {
	// Path is relative to the snap's root ("meta/snap.yaml").
	Path string
	// Mode is the permission string unsquashfs prints ("-rwxr-xr-x").
	Mode string
}

// ListSnap lists a .snap file with `unsquashfs -lls` (squashfs-tools).
func ListSnap(snapPath string) ([]Entry, error) {
	out, err := exec.Command("unsquashfs", "-lls", snapPath).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("cannot list %s: unsquashfs: %v: %s", snapPath, err, strings.TrimSpace(string(out)))
	}
	return ParseListing(string(out)), nil
}

// ParseListing reads `unsquashfs -lls` output (mode, owner, size, date,
// time, path); lines that are not entries below squashfs-root are skipped.
func ParseListing(out string) []Entry {
	var entries []Entry
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 {
			continue
		}
		path := strings.Join(fields[5:], " ")
		path, _, _ = strings.Cut(path, " -> ")
		rel, ok := strings.CutPrefix(path, "squashfs-root/")
		if !ok {
			continue
		}
		entries = append(entries, Entry{Path: rel, Mode: fields[0]})
	}
	return entries
}

// CheckListing verifies that a packed snap holds every file, directory and
// symbolic link of the primed tree, with the same kind and permissions, and
// nothing else.
func CheckListing(primeDir string, entries []Entry) error {
	listed := map[string]string{}
	for _, e := range entries {
		listed[e.Path] = e.Mode
	}
	var p problems
	seen := map[string]bool{}
	err := filepath.WalkDir(primeDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(primeDir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := info.Mode().String()
		seen[rel] = true
		got, ok := listed[rel]
		switch {
		case !ok:
			p.add("%s: in the primed tree, not in the snap", rel)
		case got != normalMode(want):
			p.add("%s: mode %s in the snap, %s in the primed tree", rel, got, want)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot walk %s: %v", primeDir, err)
	}
	for _, e := range entries {
		if !seen[e.Path] {
			p.add("%s: in the snap, not in the primed tree", e.Path)
		}
	}
	return p.err()
}

// normalMode turns Go's mode string into ls's: Go writes "drwxr-xr-x" and
// "Lrwxrwxrwx", unsquashfs "drwxr-xr-x" and "lrwxrwxrwx".
func normalMode(goMode string) string {
	if strings.HasPrefix(goMode, "L") {
		return "l" + goMode[1:]
	}
	return goMode
}

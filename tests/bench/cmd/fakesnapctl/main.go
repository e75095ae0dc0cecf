// Command fakesnapctl stands in for snapctl when the configure hook is
// timed on its own: it keeps the options in a JSON file
// ($FAKE_SNAPCTL_DOC), applies the hook's `set` to it as snapd would
// (dotted keys, JSON values), says the daemon is active, and accepts
// restart and set-health. Each call is appended to $FAKE_SNAPCTL_LOG so
// that the harness can count them.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no command")
	}
	if lp := os.Getenv("FAKE_SNAPCTL_LOG"); lp != "" {
		if f, err := os.OpenFile(lp, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
			fmt.Fprintln(f, args[0])
			f.Close()
		}
	}
	docPath := os.Getenv("FAKE_SNAPCTL_DOC")
	switch args[0] {
	case "get":
		b, err := os.ReadFile(docPath)
		if err != nil {
			return err
		}
		os.Stdout.Write(b)
		return nil
	case "set", "unset":
		return set(docPath, args[0] == "unset", args[1:])
	case "services":
		fmt.Println("Service            Startup  Current  Notes")
		for _, s := range args[1:] {
			fmt.Printf("%s  enabled  active   -\n", s)
		}
		return nil
	case "restart", "start", "stop", "set-health":
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func set(path string, unset bool, args []string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc := map[string]any{}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		key, raw, hasValue := strings.Cut(a, "=")
		var val any
		del := unset || strings.HasSuffix(key, "!")
		key = strings.TrimSuffix(key, "!")
		if !del && hasValue {
			if json.Unmarshal([]byte(raw), &val) != nil {
				val = raw
			}
		}
		parts := strings.Split(key, ".")
		m := doc
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		if del {
			delete(m, parts[len(parts)-1])
		} else {
			m[parts[len(parts)-1]] = val
		}
	}
	out, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

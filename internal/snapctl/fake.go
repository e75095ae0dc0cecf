package snapctl

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Fake is an in-memory Client for tests: options as nested maps, as snapd
// keeps them, and a record of what the hook asked for.
type Fake struct {
	Options  map[string]any
	Active   map[string]bool
	Restarts []string
	Health   []string
	SetCalls []map[string]any
}

// NewFake returns a Fake with no options and no running service.
func NewFake() *Fake {
	return &Fake{Options: map[string]any{}, Active: map[string]bool{}}
}

// SetOption sets a dotted option as snap set would (nil unsets).
func (f *Fake) SetOption(key string, v any) {
	parts := strings.Split(key, ".")
	m := f.Options
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	if v == nil {
		delete(m, parts[len(parts)-1])
		return
	}
	m[parts[len(parts)-1]] = v
}

// GetDocument implements Client; the result goes through JSON like snapctl's.
func (f *Fake) GetDocument(keys ...string) (map[string]any, error) {
	doc := map[string]any{}
	for _, k := range keys {
		if v, ok := f.Options[k]; ok {
			doc[k] = v
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return DecodeDocument(b)
}

// Set implements Client.
func (f *Fake) Set(values map[string]any) error {
	if len(values) == 0 {
		return nil
	}
	f.SetCalls = append(f.SetCalls, values)
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f.SetOption(k, values[k])
	}
	return nil
}

// Restart implements Client.
func (f *Fake) Restart(services ...string) error {
	f.Restarts = append(f.Restarts, services...)
	return nil
}

// ServiceActive implements Client.
func (f *Fake) ServiceActive(service string) (bool, error) { return f.Active[service], nil }

// SetHealth implements Client.
func (f *Fake) SetHealth(status, message, code string) error {
	f.Health = append(f.Health, fmt.Sprintf("%s %s %s", status, code, message))
	return nil
}

// Package snapctl talks to snapd from inside the snap through the snapctl
// command, behind an interface so the configure logic can be tested with a
// fake.
package snapctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// Client is the part of snapctl the snap uses.
type Client interface {
	// GetDocument returns the options under keys as one JSON document (snapctl get -d).
	// Keys that are not set are absent from the result, as snapd does.
	GetDocument(keys ...string) (map[string]any, error)
	// Set sets options; a nil value unsets the key.
	Set(values map[string]any) error
	// Restart asks snapd to restart services once the hook has succeeded.
	Restart(services ...string) error
	// ServiceActive reports whether a service is running.
	ServiceActive(service string) (bool, error)
	// SetHealth reports the snap's health (okay, waiting, blocked, error).
	SetHealth(status, message, code string) error
}

// Command runs the real snapctl.
type Command struct {
	// Path is the snapctl executable; empty means "snapctl" on $PATH.
	Path string
}

func (c Command) run(args ...string) ([]byte, error) {
	path := c.Path
	if path == "" {
		path = "snapctl"
	}
	cmd := exec.Command(path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// snapctl's own message names what failed; values are never echoed
		// back by it, so it is safe to pass on.
		return nil, fmt.Errorf("cannot run snapctl %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// GetDocument implements Client.
func (c Command) GetDocument(keys ...string) (map[string]any, error) {
	out, err := c.run(append([]string{"get", "-d"}, keys...)...)
	if err != nil {
		return nil, err
	}
	return DecodeDocument(out)
}

// DecodeDocument decodes snapctl's JSON keeping numbers exact: a 64-bit
// quota-backend-bytes must not round through float64.
func DecodeDocument(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	doc := map[string]any{}
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("cannot decode the options snapctl returned: %v", err)
	}
	return doc, nil
}

// Set implements Client.
func (c Command) Set(values map[string]any) error {
	args := []string{"set"}
	for k, v := range values {
		if v == nil {
			args = append(args, k+"!")
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("cannot encode option %s: %v", k, err)
		}
		args = append(args, k+"="+string(b))
	}
	if len(args) == 1 {
		return nil
	}
	_, err := c.run(args...)
	return err
}

// Restart implements Client.
func (c Command) Restart(services ...string) error {
	_, err := c.run(append([]string{"restart"}, services...)...)
	return err
}

// ServiceActive implements Client.
func (c Command) ServiceActive(service string) (bool, error) {
	out, err := c.run("services", service)
	if err != nil {
		return false, err
	}
	return ParseServiceActive(out, service), nil
}

// ParseServiceActive reads the "Service Startup Current Notes" table that
// snapctl services prints.
func ParseServiceActive(out []byte, service string) bool {
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == service {
			return f[2] == "active"
		}
	}
	return false
}

// SetHealth implements Client.
func (c Command) SetHealth(status, message, code string) error {
	args := []string{"set-health"}
	if code != "" {
		args = append(args, "--code="+code)
	}
	args = append(args, status)
	if status != "okay" {
		args = append(args, message)
	}
	_, err := c.run(args...)
	return err
}

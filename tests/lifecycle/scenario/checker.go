package scenario

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lab"
	"github.com/canonical/charmed-etcd-snap/tests/lifecycle/history"
)

// BuildChecker builds the load checker into bin/loadcheck of the
// repository, as the Makefile builds the snap's binaries.
func BuildChecker(ctx context.Context, repo string) (string, error) {
	out := filepath.Join(repo, "bin", "loadcheck")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./tests/lifecycle/cmd/loadcheck")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cannot build the load checker: %v: %s", err, b)
	}
	return out, nil
}

// checker is a running load checker, inside a member's namespace.
type checker struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string
	report string
	log    io.Writer
}

// startChecker runs "loadcheck run" in m's namespace and waits until its
// workers run.
func startChecker(ctx context.Context, bin string, m *lab.Member, report string, log io.Writer, args ...string) (*checker, error) {
	args = append([]string{"run", "-out", report}, args...)
	cmd := m.Cmd(ctx, bin, args...)
	cmd.Stderr = log
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the load checker: %v", err)
	}
	c := &checker{cmd: cmd, in: in, lines: make(chan string, 16), report: report, log: log}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	if _, err := c.reply(30 * time.Second); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

func (c *checker) reply(timeout time.Duration) (string, error) {
	select {
	case line, ok := <-c.lines:
		if !ok {
			return "", errors.New("the load checker exited")
		}
		if strings.HasPrefix(line, "error ") {
			return "", errors.New(line)
		}
		return line, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("the load checker did not answer within %s", timeout)
	}
}

func (c *checker) send(line string) (string, error) {
	if _, err := fmt.Fprintln(c.in, line); err != nil {
		return "", fmt.Errorf("cannot talk to the load checker: %v", err)
	}
	return c.reply(15 * time.Second)
}

// endpoints tells the checker which client URLs to use from now on.
func (c *checker) endpoints(urls []string) error {
	fmt.Fprintf(c.log, "    (load checker now uses %s)\n", strings.Join(urls, ","))
	_, err := c.send("endpoints " + strings.Join(urls, ","))
	return err
}

// mark records a named point in time in the checker's history.
func (c *checker) mark(name string) error {
	_, err := c.send("mark " + name)
	return err
}

// leader is the name of the member that leads now, as the checker sees it.
func (c *checker) leader() (name string, term uint64, err error) {
	line, err := c.send("leader")
	if err != nil {
		return "", 0, err
	}
	if _, err := fmt.Sscanf(line, "leader %s term %d", &name, &term); err != nil {
		return "", 0, fmt.Errorf("no leader (%q)", line)
	}
	return name, term, nil
}

// stop ends the load, and returns the report once the checker has read
// the write log back.
func (c *checker) stop() (*history.Report, error) {
	if _, err := fmt.Fprintln(c.in, "stop"); err != nil {
		c.kill()
		return nil, fmt.Errorf("cannot talk to the load checker: %v", err)
	}
	_ = c.in.Close()
	var line string
	var err error
	for line != "done" {
		if line, err = c.reply(90 * time.Second); err != nil {
			c.kill()
			return nil, err
		}
	}
	if err := c.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("the load checker failed: %v", err)
	}
	data, err := os.ReadFile(c.report)
	if err != nil {
		return nil, err
	}
	var r history.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("cannot read the load checker's report: %v", err)
	}
	return &r, nil
}

func (c *checker) kill() {
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	}
}

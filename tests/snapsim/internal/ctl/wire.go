package ctl

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/jessevdk/go-flags"
)

// Response is the outcome of one snapctl invocation, as snapd's /v2/snapctl
// reports it.
type Response struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	// Error is the message printed as "error: <Error>", empty on success.
	Error string `json:"error,omitempty"`
}

// Result turns the outcome of Run into a Response the way snapd's API does.
func Result(stdout, stderr []byte, err error) *Response {
	if err != nil {
		switch e := err.(type) {
		case *ForbiddenCommandError:
			return &Response{Error: e.Error()}
		case ForbiddenCommandError:
			return &Response{Error: e.Error()}
		case *flags.Error:
			if e.Type == flags.ErrHelp {
				return &Response{Stdout: e.Error(), Stderr: string(stderr)}
			}
		}
		return &Response{Error: fmt.Sprintf("error running snapctl: %s", err)}
	}
	return &Response{Stdout: string(stdout), Stderr: string(stderr)}
}

// Render prints r as the snapctl client does and returns the exit code.
func (r *Response) Render(stdout, stderr io.Writer) int {
	if r.Error != "" {
		fmt.Fprintf(stderr, "error: %s\n", r.Error)
		return 1
	}
	io.WriteString(stdout, r.Stdout)
	io.WriteString(stderr, r.Stderr)
	return 0
}

type request struct {
	Cookie string   `json:"cookie"`
	Args   []string `json:"args"`
}

// SocketAddr is the abstract unix socket a hook context is served on. It is
// reachable from processes in the same network namespace as the server,
// which hooks always are.
func SocketAddr(cookie string) string {
	return "@snapsim-hook." + cookie
}

// Server serves one hook context.
type Server struct {
	l      net.Listener
	mu     sync.Mutex
	wg     sync.WaitGroup
	ctx    Context
	cookie string
	uidMap func(uint32) uint32
}

// Listen starts serving ctx for the hook identified by cookie. uidMap turns
// a caller's uid into the uid snapd would see (the unit owner counts as root).
func Listen(ctx Context, cookie string, uidMap func(uint32) uint32) (*Server, error) {
	l, err := net.Listen("unix", SocketAddr(cookie))
	if err != nil {
		return nil, err
	}
	s := &Server{l: l, ctx: ctx, cookie: cookie, uidMap: uidMap}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Close stops serving and waits for the running commands.
func (s *Server) Close() {
	s.l.Close()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.l.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(conn.(*net.UnixConn))
		}()
	}
}

func peerUID(conn *net.UnixConn) (uint32, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *syscall.Ucred
	var serr error
	err = raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	if err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, serr
	}
	return cred.Uid, nil
}

func (s *Server) handle(conn *net.UnixConn) {
	defer conn.Close()
	var req request
	if err := json.NewDecoder(conn).Decode(&req); err != nil {
		return
	}
	var resp *Response
	uid, err := peerUID(conn)
	switch {
	case err != nil:
		resp = &Response{Error: fmt.Sprintf("cannot get remote user: %s", err)}
	case req.Cookie != s.cookie:
		resp = Result(Run(nil, req.Args, s.uidMap(uid)))
	case len(req.Args) == 0:
		resp = &Response{Error: "snapctl cannot run without args"}
	default:
		s.mu.Lock()
		resp = Result(Run(s.ctx, req.Args, s.uidMap(uid)))
		s.mu.Unlock()
	}
	json.NewEncoder(conn).Encode(resp)
}

// Call runs args in the hook context served for cookie. It fails with a
// dial error when no hook with that cookie is running.
func Call(cookie string, args []string) (*Response, error) {
	conn, err := net.DialTimeout("unix", SocketAddr(cookie), 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := json.NewEncoder(conn).Encode(&request{Cookie: cookie, Args: args}); err != nil {
		return nil, err
	}
	var resp Response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return nil, fmt.Errorf("cannot read snapctl response: %v", err)
	}
	return &resp, nil
}

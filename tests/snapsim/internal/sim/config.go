package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/snapcore/snapd/client/clientutil"
	"github.com/snapcore/snapd/overlord/configstate/config"
	"github.com/snapcore/snapd/snap"

	"github.com/canonical/charmed-etcd-snap/tests/snapsim/internal/runner"
)

// Set is `snap set [-t|-s] [SNAP] KEY=VALUE|KEY!...`.
func (s *Sim) Set(snapName string, confValues []string, typed, str bool) error {
	if str && typed {
		return errors.New("cannot use -t and -s together")
	}
	opts := &clientutil.ParseConfigOptions{String: str, Typed: typed}
	patch, _, err := clientutil.ParseConfigValues(confValues, opts)
	if err != nil {
		return err
	}
	return s.configure(snapName, patch)
}

// Unset is `snap unset [SNAP] KEY...`.
func (s *Sim) Unset(snapName string, keys []string) error {
	patch := make(map[string]interface{})
	for _, key := range keys {
		if key == "" {
			return errors.New("configuration keys cannot be empty")
		}
		patch[key] = nil
	}
	return s.configure(snapName, patch)
}

// configure is configstate.Configure: the configure hook task with the patch,
// then the service commands the hook queued.
func (s *Sim) configure(snapName string, patch map[string]interface{}) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.unlock()
	_, info, err := s.installedSnap(snapName)
	if err != nil {
		var notInstalled *snap.NotInstalledError
		if errors.As(err, &notInstalled) {
			// the API answers snap-not-found, which snap prints so
			return fmt.Errorf("snap %q not found", notInstalled.Snap)
		}
		return err
	}
	name := info.InstanceName()
	t := &hookTask{
		hook:     "configure",
		summary:  fmt.Sprintf("Run configure hook of %q snap", name),
		optional: len(patch) == 0,
		timeout:  runner.ConfigureHookTimeout(),
		patch:    patch,
	}
	if t.optional {
		t.summary = fmt.Sprintf("Run configure hook of %q snap if present", name)
	}
	ctx, err := s.runHookTask(info, t)
	if err != nil {
		return err
	}
	return s.runQueued(info, ctx)
}

// GetOptions are `snap get`'s flags.
type GetOptions struct {
	Document bool
	List     bool
	Typed    bool
	// StdinTTY selects the list output for maps (as snap does when stdin
	// is a terminal).
	StdinTTY bool
}

// Get is `snap get [-d|-l|-t] [SNAP] [KEY...]`.
func (s *Sim) Get(snapName string, keys []string, opts GetOptions) error {
	if opts.Document && opts.Typed {
		return fmt.Errorf("cannot use -d and -t together")
	}
	if opts.Document && opts.List {
		return fmt.Errorf("cannot use -d and -l together")
	}
	if err := s.readOnly(); err != nil {
		return err
	}
	defer s.unlock()
	if snapName == "" {
		_, info, err := s.installedSnap("")
		if err != nil {
			return err
		}
		snapName = info.InstanceName()
	}
	conf, err := s.getConf(snapName, keys)
	if err != nil {
		return err
	}
	out := &getOutput{w: s.Stdout, errw: s.Stderr, snapName: snapName, keys: keys, typed: opts.Typed}
	switch {
	case opts.Document:
		return out.outputJSON(conf)
	case opts.List:
		return out.outputList(conf)
	default:
		return out.outputDefault(conf, opts.StdinTTY)
	}
}

// getConf is the daemon's getSnapConf.
func (s *Sim) getConf(snapName string, keys []string) (map[string]interface{}, error) {
	st := s.store.State()
	st.Lock()
	tr := config.NewTransaction(st)
	st.Unlock()

	currentConfValues := make(map[string]interface{})
	if len(keys) == 0 {
		keys = []string{""}
	}
	for _, key := range keys {
		var value interface{}
		if err := tr.Get(snapName, key, &value); err != nil {
			if config.IsNoOption(err) {
				if key == "" {
					return make(map[string]interface{}), nil
				}
				return nil, err
			}
			return nil, err
		}
		if key == "" {
			if len(keys) > 1 {
				return nil, fmt.Errorf("keys contains zero-length string")
			}
			m, _ := value.(map[string]interface{})
			if m == nil {
				m = make(map[string]interface{})
			}
			return m, nil
		}
		currentConfValues[key] = value
	}
	return currentConfValues, nil
}

// getOutput is cmd/snap's cmdGet output logic.
type getOutput struct {
	w, errw  io.Writer
	snapName string
	keys     []string
	typed    bool
}

type configValue struct {
	Path  string
	Value interface{}
}

type byConfigPath []configValue

func (s byConfigPath) Len() int      { return len(s) }
func (s byConfigPath) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s byConfigPath) Less(i, j int) bool {
	other := s[j].Path
	for k, c := range s[i].Path {
		if len(other) <= k {
			return false
		}
		switch {
		case c == rune(other[k]):
			continue
		case c == '.':
			return true
		case other[k] == '.' || c > rune(other[k]):
			return false
		}
		return true
	}
	return true
}

func flattenConfig(cfg map[string]interface{}, root bool) (values []configValue) {
	const docstr = "{...}"
	for k, v := range cfg {
		if input, ok := v.(map[string]interface{}); ok {
			if root {
				values = append(values, configValue{k, docstr})
			} else {
				for kk, vv := range input {
					p := k + "." + kk
					if _, ok := vv.(map[string]interface{}); ok {
						values = append(values, configValue{p, docstr})
					} else {
						values = append(values, configValue{p, vv})
					}
				}
			}
		} else {
			values = append(values, configValue{k, v})
		}
	}
	sort.Sort(byConfigPath(values))
	return values
}

func (o *getOutput) rootRequested() bool { return len(o.keys) == 0 }

func (o *getOutput) outputJSON(conf interface{}) error {
	bytes, err := json.MarshalIndent(conf, "", "\t")
	if err != nil {
		return err
	}
	fmt.Fprintln(o.w, string(bytes))
	return nil
}

func (o *getOutput) outputList(conf map[string]interface{}) error {
	if o.rootRequested() && len(conf) == 0 {
		return fmt.Errorf("snap %q has no configuration", o.snapName)
	}
	w := tabwriter.NewWriter(o.w, 5, 3, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "Key\tValue\n")
	for _, v := range flattenConfig(conf, o.rootRequested()) {
		fmt.Fprintf(w, "%s\t%v\n", v.Path, v.Value)
	}
	return nil
}

func (o *getOutput) outputDefault(conf map[string]interface{}, stdinTTY bool) error {
	if o.rootRequested() && len(conf) == 0 {
		return fmt.Errorf("snap %q has no configuration", o.snapName)
	}

	var confToPrint interface{} = conf

	if len(o.keys) == 1 {
		if _, ok := conf[o.keys[0]].(map[string]interface{}); !ok {
			confToPrint = conf[o.keys[0]]
		}
	}

	if cfg, ok := confToPrint.(map[string]interface{}); ok {
		if stdinTTY {
			return o.outputList(cfg)
		}
		// sic: snap prints a literal \n here
		fmt.Fprint(o.errw, `WARNING: The output of 'snap get' will become a list with columns - use -d or -l to force the output format.\n`)
		return o.outputJSON(confToPrint)
	}

	if s, ok := confToPrint.(string); ok && !o.typed {
		fmt.Fprintln(o.w, s)
		return nil
	}

	if confToPrint != nil || o.typed {
		return o.outputJSON(confToPrint)
	}

	fmt.Fprintln(o.w, "")
	return nil
}

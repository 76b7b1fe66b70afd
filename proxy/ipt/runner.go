package ipt

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"sync"

	"github.com/coreos/go-iptables/iptables"
	corev1 "k8s.io/api/core/v1"
)

// WaitSeconds is how long iptables commands wait for the xtables lock.
const WaitSeconds = 5

// Runner is the Interface on this machine's (or this network namespace's)
// iptables.
type Runner struct {
	family      corev1.IPFamily
	ipt         *iptables.IPTables
	savePath    string
	restorePath string

	// mu serializes restores: one transaction at a time from this
	// process, whatever the backend's own locking.
	mu sync.Mutex
}

var _ Interface = &Runner{}

// New returns a Runner for family's tables: iptables, iptables-save and
// iptables-restore (or their ip6tables variants) must be installed.
func New(family corev1.IPFamily) (*Runner, error) {
	proto, prefix := iptables.ProtocolIPv4, "iptables"
	if family == corev1.IPv6Protocol {
		proto, prefix = iptables.ProtocolIPv6, "ip6tables"
	}
	ipt, err := iptables.New(iptables.IPFamily(proto), iptables.Timeout(WaitSeconds))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	r := &Runner{family: family, ipt: ipt}
	if r.savePath, err = exec.LookPath(prefix + "-save"); err != nil {
		return nil, err
	}
	if r.restorePath, err = exec.LookPath(prefix + "-restore"); err != nil {
		return nil, err
	}
	return r, nil
}

// Family implements Interface.
func (r *Runner) Family() corev1.IPFamily { return r.family }

// HasRandomFully implements Interface.
func (r *Runner) HasRandomFully() bool { return r.ipt.HasRandomFully() }

// EnsureChain implements Interface.
func (r *Runner) EnsureChain(table Table, chain Chain) (bool, error) {
	exists, err := r.ipt.ChainExists(string(table), string(chain))
	if err != nil {
		return false, err
	}
	if exists {
		return true, nil
	}
	if err := r.ipt.NewChain(string(table), string(chain)); err != nil {
		// Someone else may have created it meanwhile.
		if exists, err2 := r.ipt.ChainExists(string(table), string(chain)); err2 == nil && exists {
			return true, nil
		}
		return false, err
	}
	return false, nil
}

// ChainExists implements Interface.
func (r *Runner) ChainExists(table Table, chain Chain) (bool, error) {
	return r.ipt.ChainExists(string(table), string(chain))
}

// DeleteChain implements Interface.
func (r *Runner) DeleteChain(table Table, chain Chain) error {
	return r.ipt.ClearAndDeleteChain(string(table), string(chain))
}

// EnsureRule implements Interface.
func (r *Runner) EnsureRule(pos RulePosition, table Table, chain Chain, args ...string) (bool, error) {
	exists, err := r.ipt.Exists(string(table), string(chain), args...)
	if err != nil {
		return false, err
	}
	if exists {
		return true, nil
	}
	if pos == Prepend {
		err = r.ipt.Insert(string(table), string(chain), 1, args...)
	} else {
		err = r.ipt.Append(string(table), string(chain), args...)
	}
	return false, err
}

// DeleteRule implements Interface.
func (r *Runner) DeleteRule(table Table, chain Chain, args ...string) error {
	err := r.ipt.Delete(string(table), string(chain), args...)
	var e *iptables.Error
	if errors.As(err, &e) && e.IsNotExist() {
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return err
}

// SaveInto implements Interface.
func (r *Runner) SaveInto(table Table, buf *bytes.Buffer) error {
	var stderr bytes.Buffer
	cmd := exec.Command(r.savePath, "-t", string(table))
	cmd.Stdout, cmd.Stderr = buf, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s -t %s: %w: %s", r.savePath, table, err, stderr.String())
	}
	return nil
}

// Restore implements Interface.
func (r *Runner) Restore(data []byte, flush FlushFlag, counters CounterFlag) error {
	args := []string{"-w", strconv.Itoa(WaitSeconds)}
	if flush == NoFlushTables {
		args = append(args, "--noflush")
	}
	if counters == RestoreCounters {
		args = append(args, "--counters")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out bytes.Buffer
	cmd := exec.Command(r.restorePath, args...)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return &RestoreError{Line: restoreErrorLine(out.String()), Output: out.String(), Err: err}
	}
	return nil
}

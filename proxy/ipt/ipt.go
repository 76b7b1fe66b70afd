// Package ipt is the proxy's only way to the kernel's iptables: an Interface
// for the few operations the proxier needs, implemented by Runner with
// github.com/coreos/go-iptables (chain and jump-rule management) and the
// iptables-save and iptables-restore commands (whole-table reads and
// atomic writes). ipttest has an in-memory fake for tests.
package ipt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Table is an iptables table.
type Table string

// The tables the proxy uses.
const (
	TableNAT    Table = "nat"
	TableFilter Table = "filter"
	TableMangle Table = "mangle"
)

// Chain is an iptables chain.
type Chain string

// The built-in chains the proxy hooks into.
const (
	ChainPrerouting  Chain = "PREROUTING"
	ChainInput       Chain = "INPUT"
	ChainForward     Chain = "FORWARD"
	ChainOutput      Chain = "OUTPUT"
	ChainPostrouting Chain = "POSTROUTING"
)

// RulePosition says where EnsureRule puts a missing rule.
type RulePosition string

// Rule positions.
const (
	Prepend RulePosition = "-I"
	Append  RulePosition = "-A"
)

// Interface is what the proxier does with iptables. Implementations must be
// safe for concurrent use.
type Interface interface {
	// Family is the IP family of the tables (iptables or ip6tables).
	Family() corev1.IPFamily
	// EnsureChain creates chain in table unless it exists, and reports
	// whether it existed.
	EnsureChain(table Table, chain Chain) (bool, error)
	// ChainExists reports whether chain exists in table.
	ChainExists(table Table, chain Chain) (bool, error)
	// DeleteChain flushes and deletes chain; a missing chain is no error.
	DeleteChain(table Table, chain Chain) error
	// EnsureRule adds the rule args to chain at pos unless it is there,
	// and reports whether it was.
	EnsureRule(pos RulePosition, table Table, chain Chain, args ...string) (bool, error)
	// DeleteRule deletes the rule args from chain; an error for a missing
	// rule or chain satisfies IsNotFound.
	DeleteRule(table Table, chain Chain, args ...string) error
	// SaveInto writes table in iptables-save format into buf.
	SaveInto(table Table, buf *bytes.Buffer) error
	// Restore feeds data (one or more tables) to iptables-restore in one
	// transaction. Without flush only the chains data declares are
	// flushed; the rest of each table is kept.
	Restore(data []byte, flush FlushFlag, counters CounterFlag) error
	// HasRandomFully reports whether MASQUERADE supports --random-fully.
	HasRandomFully() bool
}

// FlushFlag says whether Restore flushes whole tables.
type FlushFlag bool

// Flush flags.
const (
	FlushTables   FlushFlag = true
	NoFlushTables FlushFlag = false
)

// CounterFlag says whether Restore sets the counters given in data.
type CounterFlag bool

// Counter flags.
const (
	RestoreCounters   CounterFlag = true
	NoRestoreCounters CounterFlag = false
)

// ErrNotFound is the error of operations on missing rules or chains.
var ErrNotFound = errors.New("no such rule or chain")

// IsNotFound reports whether err says a rule or chain does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// RestoreError is a failed iptables-restore. Line, when known, is the
// 1-based line of the input it failed on.
type RestoreError struct {
	Line   int
	Output string
	Err    error
}

func (e *RestoreError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("iptables-restore failed on line %d: %v: %s", e.Line, e.Err, strings.TrimSpace(e.Output))
	}
	return fmt.Sprintf("iptables-restore failed: %v: %s", e.Err, strings.TrimSpace(e.Output))
}

func (e *RestoreError) Unwrap() error { return e.Err }

var restoreLineRE = regexp.MustCompile(`(?i)line:?\s*(\d+)`)

// restoreErrorLine finds the failed input line in iptables-restore's output
// ("iptables-restore: line 7 failed", "Error occurred at line: 7").
func restoreErrorLine(output string) int {
	m := restoreLineRE.FindStringSubmatch(output)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// ExtractLines returns the lines of data around the 1-based line, each
// prefixed with its number, to log what a failed restore choked on.
func ExtractLines(data []byte, line, around int) []string {
	lines := strings.Split(string(data), "\n")
	var out []string
	for i := max(line-around, 1); i <= min(line+around, len(lines)); i++ {
		out = append(out, fmt.Sprintf("%d: %s", i, lines[i-1]))
	}
	return out
}

// ChainsFromTable returns the chains declared in one table's iptables-save
// output.
func ChainsFromTable(save []byte) sets.Set[Chain] {
	chains := sets.New[Chain]()
	sc := bufio.NewScanner(bytes.NewReader(save))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, ":") {
			continue
		}
		if name, _, ok := strings.Cut(line[1:], " "); ok {
			chains.Insert(Chain(name))
		}
	}
	return chains
}

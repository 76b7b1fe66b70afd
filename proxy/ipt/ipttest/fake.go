// Package ipttest has an in-memory ipt.Interface for tests: it keeps tables
// of chains and rules, applies iptables-restore input to them with the
// kernel's all-or-nothing semantics (and its complaints about missing or
// still-referenced chains), and records every restore.
package ipttest

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/strata-dev/strata/proxy/ipt"
)

var builtinChains = map[ipt.Table][]ipt.Chain{
	ipt.TableNAT:    {ipt.ChainPrerouting, ipt.ChainInput, ipt.ChainOutput, ipt.ChainPostrouting},
	ipt.TableFilter: {ipt.ChainInput, ipt.ChainForward, ipt.ChainOutput},
	ipt.TableMangle: {ipt.ChainPrerouting, ipt.ChainInput, ipt.ChainForward, ipt.ChainOutput, ipt.ChainPostrouting},
}

// targets are the non-chain jump targets rules may use.
var targets = map[string]bool{
	"ACCEPT": true, "DROP": true, "RETURN": true, "REJECT": true, "DNAT": true, "SNAT": true,
	"MASQUERADE": true, "MARK": true, "CONNMARK": true, "LOG": true, "REDIRECT": true, "NOTRACK": true, "CT": true,
}

// table is one table: its chains and their rules (the text after
// "-A CHAIN ").
type table map[ipt.Chain][]string

func (t table) clone() table {
	c := table{}
	for name, rules := range t {
		c[name] = slices.Clone(rules)
	}
	return c
}

// Fake is an in-memory ipt.Interface.
type Fake struct {
	family corev1.IPFamily

	mu     sync.Mutex
	tables map[ipt.Table]table
	// restores are the inputs of every Restore call, failed ones too.
	restores [][]byte
	// restoreErr, when set, fails the next restores.
	restoreErr error
}

var _ ipt.Interface = &Fake{}

// New returns a fake with empty tables of family.
func New(family corev1.IPFamily) *Fake {
	f := &Fake{family: family, tables: map[ipt.Table]table{}}
	for name, chains := range builtinChains {
		t := table{}
		for _, c := range chains {
			t[c] = nil
		}
		f.tables[name] = t
	}
	return f
}

// Family implements ipt.Interface.
func (f *Fake) Family() corev1.IPFamily { return f.family }

// HasRandomFully implements ipt.Interface: the fake does.
func (f *Fake) HasRandomFully() bool { return true }

// SetRestoreError makes restores fail with err (nil: succeed again).
func (f *Fake) SetRestoreError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restoreErr = err
}

// Restores returns the inputs of every Restore call.
func (f *Fake) Restores() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.restores)
}

// LastRestore returns the input of the last Restore call, nil if none.
func (f *Fake) LastRestore() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.restores) == 0 {
		return nil
	}
	return f.restores[len(f.restores)-1]
}

// Flush empties every table, as a reboot or an administrator's
// `iptables -F; iptables -X` would.
func (f *Fake) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, chains := range builtinChains {
		t := table{}
		for _, c := range chains {
			t[c] = nil
		}
		f.tables[name] = t
	}
}

// EnsureChain implements ipt.Interface.
func (f *Fake) EnsureChain(tbl ipt.Table, chain ipt.Chain) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.table(tbl)
	if _, ok := t[chain]; ok {
		return true, nil
	}
	t[chain] = nil
	return false, nil
}

// ChainExists implements ipt.Interface.
func (f *Fake) ChainExists(tbl ipt.Table, chain ipt.Chain) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.table(tbl)[chain]
	return ok, nil
}

// DeleteChain implements ipt.Interface.
func (f *Fake) DeleteChain(tbl ipt.Table, chain ipt.Chain) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.table(tbl)
	if _, ok := t[chain]; !ok {
		return nil
	}
	if err := checkUnreferenced(t, chain); err != nil {
		return err
	}
	delete(t, chain)
	return nil
}

// EnsureRule implements ipt.Interface.
func (f *Fake) EnsureRule(pos ipt.RulePosition, tbl ipt.Table, chain ipt.Chain, args ...string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.table(tbl)
	rules, ok := t[chain]
	if !ok {
		return false, fmt.Errorf("%w: chain %s", ipt.ErrNotFound, chain)
	}
	rule := strings.Join(args, " ")
	if slices.Contains(rules, rule) {
		return true, nil
	}
	if err := checkTarget(t, rule); err != nil {
		return false, err
	}
	if pos == ipt.Prepend {
		t[chain] = append([]string{rule}, rules...)
	} else {
		t[chain] = append(rules, rule)
	}
	return false, nil
}

// DeleteRule implements ipt.Interface.
func (f *Fake) DeleteRule(tbl ipt.Table, chain ipt.Chain, args ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.table(tbl)
	rules, ok := t[chain]
	if !ok {
		return fmt.Errorf("%w: chain %s", ipt.ErrNotFound, chain)
	}
	i := slices.Index(rules, strings.Join(args, " "))
	if i < 0 {
		return fmt.Errorf("%w: rule in %s", ipt.ErrNotFound, chain)
	}
	t[chain] = slices.Delete(rules, i, i+1)
	return nil
}

// SaveInto implements ipt.Interface.
func (f *Fake) SaveInto(tbl ipt.Table, buf *bytes.Buffer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeTable(buf, tbl, f.table(tbl))
	return nil
}

// Dump returns every table in iptables-save format, chains sorted by name,
// so that states can be compared.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var buf bytes.Buffer
	for _, name := range []ipt.Table{ipt.TableFilter, ipt.TableNAT, ipt.TableMangle} {
		writeTable(&buf, name, f.table(name))
	}
	return buf.String()
}

// Restore implements ipt.Interface. It applies all tables or none.
func (f *Fake) Restore(data []byte, flush ipt.FlushFlag, _ ipt.CounterFlag) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restores = append(f.restores, slices.Clone(data))
	if f.restoreErr != nil {
		return f.restoreErr
	}
	next := map[ipt.Table]table{}
	for name, t := range f.tables {
		next[name] = t.clone()
	}
	var cur table
	var curName ipt.Table
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	lineNo := 0
	fail := func(format string, args ...any) error {
		return &ipt.RestoreError{Line: lineNo, Err: fmt.Errorf(format, args...)}
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "*"):
			curName = ipt.Table(line[1:])
			if _, ok := builtinChains[curName]; !ok {
				return fail("unknown table %q", curName)
			}
			cur = next[curName]
			if flush == ipt.FlushTables {
				cur = table{}
				for _, c := range builtinChains[curName] {
					cur[c] = nil
				}
				next[curName] = cur
			}
		case line == "COMMIT":
			if cur == nil {
				return fail("COMMIT outside a table")
			}
			cur = nil
		case cur == nil:
			return fail("line outside a table: %q", line)
		case strings.HasPrefix(line, ":"):
			name, _, _ := strings.Cut(line[1:], " ")
			cur[ipt.Chain(name)] = nil // create, or flush
		case strings.HasPrefix(line, "-A "), strings.HasPrefix(line, "-I "):
			fields := strings.SplitN(line, " ", 3)
			if len(fields) < 3 {
				return fail("rule without a body: %q", line)
			}
			chain := ipt.Chain(fields[1])
			if _, ok := cur[chain]; !ok {
				return fail("chain %q does not exist", chain)
			}
			if err := checkTarget(cur, fields[2]); err != nil {
				return fail("%v", err)
			}
			if fields[0] == "-A" {
				cur[chain] = append(cur[chain], fields[2])
			} else {
				cur[chain] = append([]string{fields[2]}, cur[chain]...)
			}
		case strings.HasPrefix(line, "-X "):
			chain := ipt.Chain(strings.TrimSpace(line[3:]))
			if _, ok := cur[chain]; !ok {
				return fail("chain %q does not exist", chain)
			}
			if len(cur[chain]) > 0 {
				return fail("chain %q is not empty", chain)
			}
			if err := checkUnreferenced(cur, chain); err != nil {
				return fail("%v", err)
			}
			delete(cur, chain)
		default:
			return fail("unsupported line %q", line)
		}
	}
	if cur != nil {
		return fail("table %s without COMMIT", curName)
	}
	f.tables = next
	return nil
}

func (f *Fake) table(name ipt.Table) table {
	t, ok := f.tables[name]
	if !ok {
		t = table{}
		f.tables[name] = t
	}
	return t
}

// jumpTarget returns the -j or -g target of a rule, "" if none.
func jumpTarget(rule string) string {
	fields := strings.Fields(rule)
	for i := 0; i+1 < len(fields); i++ {
		if fields[i] == "-j" || fields[i] == "-g" {
			return fields[i+1]
		}
	}
	return ""
}

func checkTarget(t table, rule string) error {
	target := jumpTarget(rule)
	if target == "" || targets[target] {
		return nil
	}
	if _, ok := t[ipt.Chain(target)]; !ok {
		return fmt.Errorf("chain %q does not exist", target)
	}
	return nil
}

func checkUnreferenced(t table, chain ipt.Chain) error {
	for name, rules := range t {
		for _, r := range rules {
			if jumpTarget(r) == string(chain) {
				return fmt.Errorf("chain %q is referenced by %s", chain, name)
			}
		}
	}
	return nil
}

func writeTable(buf *bytes.Buffer, name ipt.Table, t table) {
	fmt.Fprintf(buf, "*%s\n", name)
	chains := make([]string, 0, len(t))
	for c := range t {
		chains = append(chains, string(c))
	}
	sort.Strings(chains)
	for _, c := range chains {
		policy := "-"
		if slices.Contains(builtinChains[name], ipt.Chain(c)) {
			policy = "ACCEPT"
		}
		fmt.Fprintf(buf, ":%s %s [0:0]\n", c, policy)
	}
	for _, c := range chains {
		for _, r := range t[ipt.Chain(c)] {
			fmt.Fprintf(buf, "-A %s %s\n", c, r)
		}
	}
	buf.WriteString("COMMIT\n")
}

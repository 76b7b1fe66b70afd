// Package sysctl reads and writes the kernel settings the proxy needs
// (route_localnet, nf_conntrack_tcp_be_liberal) through an Interface, so
// that tests never touch the machine's.
package sysctl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Interface gets and sets integer sysctls, named as in /proc/sys
// ("net/ipv4/conf/all/route_localnet").
type Interface interface {
	Get(name string) (int, error)
	Set(name string, value int) error
}

// Proc is the Interface of /proc/sys (of the caller's network namespace).
type Proc struct{ Root string }

// New returns the Interface of /proc/sys.
func New() Proc { return Proc{Root: "/proc/sys"} }

// Get implements Interface.
func (p Proc) Get(name string) (int, error) {
	data, err := os.ReadFile(filepath.Join(p.Root, name))
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("sysctl %s: %w", name, err)
	}
	return v, nil
}

// Set implements Interface.
func (p Proc) Set(name string, value int) error {
	return os.WriteFile(filepath.Join(p.Root, name), []byte(strconv.Itoa(value)), 0o640)
}

// Fake is an in-memory Interface.
type Fake struct {
	mu     sync.Mutex
	Values map[string]int
}

// NewFake returns a fake holding values.
func NewFake(values map[string]int) *Fake {
	if values == nil {
		values = map[string]int{}
	}
	return &Fake{Values: values}
}

// Get implements Interface.
func (f *Fake) Get(name string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.Values[name]
	if !ok {
		return 0, fmt.Errorf("sysctl %s: %w", name, os.ErrNotExist)
	}
	return v, nil
}

// Set implements Interface.
func (f *Fake) Set(name string, value int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Values[name] = value
	return nil
}

package sysctl

import (
	"os"
	"path/filepath"
	"testing"
)

func TestProc(t *testing.T) {
	root := t.TempDir()
	name := "net/ipv4/conf/all/route_localnet"
	if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, name), []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Proc{Root: root}
	if v, err := p.Get(name); err != nil || v != 0 {
		t.Fatalf("Get = %d, %v", v, err)
	}
	if err := p.Set(name, 1); err != nil {
		t.Fatal(err)
	}
	if v, err := p.Get(name); err != nil || v != 1 {
		t.Fatalf("Get after Set = %d, %v", v, err)
	}
	if _, err := p.Get("net/missing"); err == nil {
		t.Error("Missing sysctl read")
	}
}

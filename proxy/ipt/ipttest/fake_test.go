package ipttest

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/strata-dev/strata/proxy/ipt"
)

func TestRestoreSemantics(t *testing.T) {
	f := New(corev1.IPv4Protocol)
	ok := func(data string) {
		t.Helper()
		if err := f.Restore([]byte(data), ipt.NoFlushTables, ipt.RestoreCounters); err != nil {
			t.Fatalf("Restore: %v", err)
		}
	}
	ok("*nat\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j RETURN\nCOMMIT\n")
	// Declaring a chain flushes it; others stay.
	ok("*nat\n:A - [0:0]\nCOMMIT\n")
	if dump := f.Dump(); strings.Contains(dump, "-A A ") || !strings.Contains(dump, "-A B -j RETURN") {
		t.Errorf("After flushing A:\n%s", dump)
	}

	for _, tc := range []struct{ name, data string }{
		{"jump to a missing chain", "*nat\n:A - [0:0]\n-A A -j NOPE\nCOMMIT\n"},
		{"rule in a missing chain", "*nat\n-A NOPE -j RETURN\nCOMMIT\n"},
		{"delete a referenced chain", "*nat\n:A - [0:0]\n-A A -j B\n-X B\nCOMMIT\n"},
		{"delete a non-empty chain", "*nat\n-X B\nCOMMIT\n"},
		{"no commit", "*nat\n:C - [0:0]\n"},
	} {
		before := f.Dump()
		if err := f.Restore([]byte(tc.data), ipt.NoFlushTables, ipt.RestoreCounters); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
		if after := f.Dump(); after != before {
			t.Errorf("%s: a failed restore changed the tables:\n%s", tc.name, after)
		}
	}

	// Flush and delete in one go.
	ok("*nat\n:B - [0:0]\n-X B\nCOMMIT\n")
	if strings.Contains(f.Dump(), ":B ") {
		t.Errorf("B not deleted:\n%s", f.Dump())
	}
}

func TestRules(t *testing.T) {
	f := New(corev1.IPv4Protocol)
	if _, err := f.EnsureRule(ipt.Append, ipt.TableNAT, ipt.ChainOutput, "-j", "KUBE-SERVICES"); err == nil {
		t.Error("Jump to a missing chain accepted")
	}
	if existed, _ := f.EnsureChain(ipt.TableNAT, "KUBE-SERVICES"); existed {
		t.Error("New chain existed")
	}
	for i := 0; i < 2; i++ {
		if _, err := f.EnsureRule(ipt.Prepend, ipt.TableNAT, ipt.ChainOutput, "-j", "KUBE-SERVICES"); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(f.Dump(), "-A OUTPUT -j KUBE-SERVICES"); n != 1 {
		t.Errorf("Rule present %d times", n)
	}
	if err := f.DeleteRule(ipt.TableNAT, ipt.ChainOutput, "-j", "KUBE-SERVICES"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteRule(ipt.TableNAT, ipt.ChainOutput, "-j", "KUBE-SERVICES"); !ipt.IsNotFound(err) {
		t.Errorf("Deleting a missing rule: %v", err)
	}
}

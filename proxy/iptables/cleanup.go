package iptables

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/proxy/ipt"
)

// CleanupLeftovers removes everything a proxier adds to iptables: the
// jumps from the built-in chains, then (in one restore per table) the
// proxy's chains. Missing rules and chains are fine: cleaning up twice is.
func CleanupLeftovers(ctx context.Context, iptables ipt.Interface) error {
	logger := klog.FromContext(ctx).WithValues("ipFamily", iptables.Family())
	var errs []error
	for _, j := range append(append([]jumpChain{}, jumpChains...), localnetJumpChains...) {
		if err := iptables.DeleteRule(j.table, j.srcChain, j.args()...); err != nil && !ipt.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing the jump from %s to %s in table %s: %w", j.srcChain, j.dstChain, j.table, err))
		}
	}

	tables := []struct {
		table  ipt.Table
		chains []ipt.Chain
	}{
		{ipt.TableNAT, []ipt.Chain{kubeServicesChain, kubeNodePortsChain, kubePostroutingChain, kubeMarkMasqChain, kubeProxyCanaryChain}},
		{ipt.TableFilter, []ipt.Chain{kubeServicesChain, kubeExternalServicesChain, kubeForwardChain, kubeNodePortsChain, kubeProxyFirewallChain, kubeletFirewallChain, kubeProxyCanaryChain}},
	}
	for _, t := range tables {
		var save bytes.Buffer
		if err := iptables.SaveInto(t.table, &save); err != nil {
			errs = append(errs, fmt.Errorf("reading table %s: %w", t.table, err))
			continue
		}
		existing := ipt.ChainsFromTable(save.Bytes())
		var chains, rules lineBuffer
		for _, c := range t.chains {
			if existing.Has(c) {
				chains.Write(chainLine(c))
				rules.Write("-X", string(c))
			}
		}
		for _, c := range sortedChains(existing) {
			if isServiceChainName(string(c)) {
				chains.Write(chainLine(c))
				rules.Write("-X", string(c))
			}
		}
		if chains.lines == 0 {
			continue
		}
		var data bytes.Buffer
		fmt.Fprintf(&data, "*%s\n", t.table)
		data.Write(chains.buf.Bytes())
		data.Write(rules.buf.Bytes())
		data.WriteString("COMMIT\n")
		logger.V(2).Info("Deleting the proxy's chains", "table", t.table, "chains", chains.lines)
		if err := iptables.Restore(data.Bytes(), ipt.NoFlushTables, ipt.RestoreCounters); err != nil {
			errs = append(errs, fmt.Errorf("deleting the proxy's chains in table %s: %w", t.table, err))
		}
	}
	if err := iptables.DeleteChain(ipt.TableMangle, kubeProxyCanaryChain); err != nil {
		errs = append(errs, fmt.Errorf("deleting the canary chain in table mangle: %w", err))
	}
	return errors.Join(errs...)
}

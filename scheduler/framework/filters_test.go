package framework

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

type filterCase struct {
	name string
	pod  *corev1.Pod
	node *corev1.Node
	pods []*corev1.Pod
	want *Status
}

func runFilterCases(t *testing.T, fn func(*PodInfo, *NodeInfo) *Status, cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := fn(NewPodInfo(tc.pod), NewNodeInfo(tc.node, tc.pods...))
			if got.IsSuccess() {
				got = nil
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func fail(code Code, reasons ...string) *Status { return &Status{Code: code, Reasons: reasons} }

func TestNodeUnschedulable(t *testing.T) {
	cordoned := func(n *corev1.Node) { n.Spec.Unschedulable = true }
	tolerates := func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/unschedulable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	}
	runFilterCases(t, NodeUnschedulable, []filterCase{
		{name: "schedulable", pod: pod("p"), node: node("n", "1", "1Gi", 10)},
		{name: "cordoned", pod: pod("p"), node: node("n", "1", "1Gi", 10, cordoned), want: fail(UnschedulableAndUnresolvable, ErrReasonUnschedulable)},
		{name: "cordoned but tolerated", pod: pod("p", tolerates), node: node("n", "1", "1Gi", 10, cordoned)},
	})
}

func TestNodeName(t *testing.T) {
	on := func(name string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = name } }
	runFilterCases(t, NodeName, []filterCase{
		{name: "no node name", pod: pod("p"), node: node("n", "1", "1Gi", 10)},
		{name: "this node", pod: pod("p", on("n")), node: node("n", "1", "1Gi", 10)},
		{name: "another node", pod: pod("p", on("m")), node: node("n", "1", "1Gi", 10), want: fail(UnschedulableAndUnresolvable, ErrReasonNodeName)},
	})
}

func TestTaintToleration(t *testing.T) {
	tol := func(ts ...corev1.Toleration) podOpt { return func(p *corev1.Pod) { p.Spec.Tolerations = ts } }
	untolerated := fail(UnschedulableAndUnresolvable, ErrReasonUntoleratedTaint)
	gpu := taint("dedicated", "gpu", corev1.TaintEffectNoSchedule)
	runFilterCases(t, TaintToleration, []filterCase{
		{name: "no taints", pod: pod("p"), node: node("n", "1", "1Gi", 10)},
		{name: "NoSchedule untolerated", pod: pod("p"), node: node("n", "1", "1Gi", 10, gpu), want: untolerated},
		{name: "NoExecute untolerated", pod: pod("p"), node: node("n", "1", "1Gi", 10, taint("k", "v", corev1.TaintEffectNoExecute)), want: untolerated},
		{name: "PreferNoSchedule is not a filter", pod: pod("p"), node: node("n", "1", "1Gi", 10, taint("k", "v", corev1.TaintEffectPreferNoSchedule))},
		{name: "Equal with value and effect", node: node("n", "1", "1Gi", 10, gpu),
			pod: pod("p", tol(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}))},
		{name: "empty operator means Equal", node: node("n", "1", "1Gi", 10, gpu),
			pod: pod("p", tol(corev1.Toleration{Key: "dedicated", Value: "gpu"}))},
		{name: "wrong value", node: node("n", "1", "1Gi", 10, gpu), want: untolerated,
			pod: pod("p", tol(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "cpu"}))},
		{name: "wrong effect", node: node("n", "1", "1Gi", 10, gpu), want: untolerated,
			pod: pod("p", tol(corev1.Toleration{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoExecute}))},
		{name: "Exists on the key", node: node("n", "1", "1Gi", 10, gpu),
			pod: pod("p", tol(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists}))},
		{name: "Exists with empty key tolerates everything", node: node("n", "1", "1Gi", 10, gpu, taint("other", "", corev1.TaintEffectNoExecute)),
			pod: pod("p", tol(corev1.Toleration{Operator: corev1.TolerationOpExists}))},
		{name: "one of two taints untolerated", node: node("n", "1", "1Gi", 10, gpu, taint("other", "", corev1.TaintEffectNoSchedule)), want: untolerated,
			pod: pod("p", tol(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists}))},
	})
}

func TestNodeAffinity(t *testing.T) {
	selector := func(kv ...string) podOpt {
		return func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				p.Spec.NodeSelector[kv[i]] = kv[i+1]
			}
		}
	}
	required := func(terms ...corev1.NodeSelectorTerm) podOpt {
		return func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
			}}
		}
	}
	expr := func(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
	}
	mismatch := fail(UnschedulableAndUnresolvable, ErrReasonNodeAffinity)
	n := node("n1", "1", "1Gi", 10, withLabels("zone", "a", "cores", "8"))
	runFilterCases(t, NodeAffinity, []filterCase{
		{name: "nothing asked", pod: pod("p"), node: n},
		{name: "nodeSelector matches", pod: pod("p", selector("zone", "a")), node: n},
		{name: "nodeSelector mismatch", pod: pod("p", selector("zone", "b")), node: n, want: mismatch},
		{name: "nodeSelector on missing label", pod: pod("p", selector("disk", "ssd")), node: n, want: mismatch},
		{name: "In", pod: pod("p", required(expr("zone", corev1.NodeSelectorOpIn, "a", "b"))), node: n},
		{name: "In mismatch", pod: pod("p", required(expr("zone", corev1.NodeSelectorOpIn, "b"))), node: n, want: mismatch},
		{name: "NotIn", pod: pod("p", required(expr("zone", corev1.NodeSelectorOpNotIn, "b"))), node: n},
		{name: "NotIn on missing label", pod: pod("p", required(expr("disk", corev1.NodeSelectorOpNotIn, "hdd"))), node: n},
		{name: "NotIn mismatch", pod: pod("p", required(expr("zone", corev1.NodeSelectorOpNotIn, "a"))), node: n, want: mismatch},
		{name: "Exists", pod: pod("p", required(expr("zone", corev1.NodeSelectorOpExists))), node: n},
		{name: "Exists mismatch", pod: pod("p", required(expr("disk", corev1.NodeSelectorOpExists))), node: n, want: mismatch},
		{name: "DoesNotExist", pod: pod("p", required(expr("disk", corev1.NodeSelectorOpDoesNotExist))), node: n},
		{name: "DoesNotExist mismatch", pod: pod("p", required(expr("zone", corev1.NodeSelectorOpDoesNotExist))), node: n, want: mismatch},
		{name: "Gt", pod: pod("p", required(expr("cores", corev1.NodeSelectorOpGt, "4"))), node: n},
		{name: "Gt mismatch", pod: pod("p", required(expr("cores", corev1.NodeSelectorOpGt, "8"))), node: n, want: mismatch},
		{name: "Lt", pod: pod("p", required(expr("cores", corev1.NodeSelectorOpLt, "16"))), node: n},
		{name: "Lt mismatch", pod: pod("p", required(expr("cores", corev1.NodeSelectorOpLt, "8"))), node: n, want: mismatch},
		{name: "terms are ORed", pod: pod("p", required(expr("zone", corev1.NodeSelectorOpIn, "b"), expr("zone", corev1.NodeSelectorOpIn, "a"))), node: n},
		{name: "expressions of a term are ANDed", node: n, want: mismatch, pod: pod("p", required(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}},
			{Key: "disk", Operator: corev1.NodeSelectorOpExists},
		}}))},
		{name: "empty term matches nothing", pod: pod("p", required(corev1.NodeSelectorTerm{})), node: n, want: mismatch},
		{name: "matchFields metadata.name", node: n, pod: pod("p", required(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}},
		}}))},
		{name: "matchFields metadata.name mismatch", node: n, want: mismatch, pod: pod("p", required(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n2"}},
		}}))},
		{name: "nodeSelector and affinity both apply", pod: pod("p", selector("zone", "b"), required(expr("zone", corev1.NodeSelectorOpIn, "a"))), node: n, want: mismatch},
	})
}

func TestNodePorts(t *testing.T) {
	conflict := fail(Unschedulable, ErrReasonNodePorts)
	n := node("n", "1", "1Gi", 10)
	runFilterCases(t, NodePorts, []filterCase{
		{name: "no host ports", pod: pod("p"), node: n, pods: []*corev1.Pod{pod("q", hostPort("", "", 80))}},
		{name: "free port", pod: pod("p", hostPort("", "", 8080)), node: n, pods: []*corev1.Pod{pod("q", hostPort("", "", 80))}},
		{name: "same port", pod: pod("p", hostPort("", "", 80)), node: n, pods: []*corev1.Pod{pod("q", hostPort("", "", 80))}, want: conflict},
		{name: "other protocol", pod: pod("p", hostPort("", corev1.ProtocolUDP, 80)), node: n, pods: []*corev1.Pod{pod("q", hostPort("", "", 80))}},
		{name: "different host IPs", pod: pod("p", hostPort("10.0.0.1", "", 80)), node: n, pods: []*corev1.Pod{pod("q", hostPort("10.0.0.2", "", 80))}},
		{name: "same host IP", pod: pod("p", hostPort("10.0.0.1", "", 80)), node: n, pods: []*corev1.Pod{pod("q", hostPort("10.0.0.1", "", 80))}, want: conflict},
		{name: "wildcard against a specific IP", pod: pod("p", hostPort("", "", 80)), node: n, pods: []*corev1.Pod{pod("q", hostPort("10.0.0.1", "", 80))}, want: conflict},
		{name: "specific IP against the wildcard", pod: pod("p", hostPort("10.0.0.1", "", 80)), node: n, pods: []*corev1.Pod{pod("q", hostPort("0.0.0.0", "", 80))}, want: conflict},
	})
}

func TestNodeResourcesFit(t *testing.T) {
	initContainer := func(cpu string) podOpt {
		return func(p *corev1.Pod) {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "init", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)},
			}})
		}
	}
	overhead := func(cpu string) podOpt {
		return func(p *corev1.Pod) {
			p.Spec.Overhead = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
		}
	}
	gpus := func(n int64) podOpt {
		return func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests["example.com/gpu"] = *resource.NewQuantity(n, resource.DecimalSI)
		}
	}
	withGPUs := func(n *corev1.Node) { n.Status.Allocatable["example.com/gpu"] = resource.MustParse("2") }
	n := node("n", "2", "4Gi", 3)
	runFilterCases(t, NodeResourcesFit, []filterCase{
		{name: "fits an empty node", pod: pod("p", requests("1", "1Gi")), node: n},
		{name: "fits exactly", pod: pod("p", requests("1", "1Gi")), node: n, pods: []*corev1.Pod{pod("q", requests("1", "3Gi"))}},
		{name: "insufficient cpu", pod: pod("p", requests("1500m", "")), node: n, pods: []*corev1.Pod{pod("q", requests("1", ""))},
			want: fail(Unschedulable, "Insufficient cpu")},
		{name: "insufficient cpu and memory", pod: pod("p", requests("1500m", "2Gi")), node: n, pods: []*corev1.Pod{pod("q", requests("1", "3Gi"))},
			want: fail(Unschedulable, "Insufficient cpu", "Insufficient memory")},
		{name: "more than the whole node is unresolvable", pod: pod("p", requests("3", "")), node: n,
			want: fail(UnschedulableAndUnresolvable, "Insufficient cpu")},
		{name: "too many pods", pod: pod("p"), node: n, pods: []*corev1.Pod{pod("a"), pod("b"), pod("c")},
			want: fail(Unschedulable, ErrReasonTooManyPods)},
		{name: "best effort pod fits a full node", pod: pod("p"), node: n, pods: []*corev1.Pod{pod("q", requests("2", "4Gi"))}},
		{name: "init container max counts", pod: pod("p", requests("500m", ""), initContainer("1500m")), node: n, pods: []*corev1.Pod{pod("q", requests("1", ""))},
			want: fail(Unschedulable, "Insufficient cpu")},
		{name: "init container below the sum", pod: pod("p", requests("1", ""), initContainer("500m")), node: n, pods: []*corev1.Pod{pod("q", requests("1", ""))}},
		{name: "overhead counts", pod: pod("p", requests("1", ""), overhead("100m")), node: n, pods: []*corev1.Pod{pod("q", requests("1", ""))},
			want: fail(Unschedulable, "Insufficient cpu")},
		{name: "extended resource", pod: pod("p", requests("1", ""), gpus(1)), node: node("g", "2", "4Gi", 3, withGPUs), pods: []*corev1.Pod{pod("q", requests("", ""), gpus(1))}},
		{name: "insufficient extended resource", pod: pod("p", requests("1", ""), gpus(2)), node: node("g", "2", "4Gi", 3, withGPUs), pods: []*corev1.Pod{pod("q", requests("", ""), gpus(1))},
			want: fail(Unschedulable, "Insufficient example.com/gpu")},
		{name: "extended resource the node lacks", pod: pod("p", requests("1", ""), gpus(1)), node: n,
			want: fail(UnschedulableAndUnresolvable, "Insufficient example.com/gpu")},
	})
}

func TestRunFiltersStopsAtTheFirstFailure(t *testing.T) {
	n := node("n", "1", "1Gi", 10, taint("k", "v", corev1.TaintEffectNoSchedule))
	got := RunFilters(nil, NewPodInfo(pod("p", requests("2", ""))), NewNodeInfo(n))
	if diff := cmp.Diff(fail(UnschedulableAndUnresolvable, ErrReasonUntoleratedTaint), got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if got := RunFilters(nil, NewPodInfo(pod("p")), NewNodeInfo(nil)); got.IsSuccess() {
		t.Error("a node that does not exist passed")
	}
}

func TestNodeInfoAccounting(t *testing.T) {
	ni := NewNodeInfo(node("n", "4", "8Gi", 10))
	ni.AddPod(NewPodInfo(pod("a", requests("1", "1Gi"), hostPort("", "", 80))))
	ni.AddPod(NewPodInfo(pod("b", requests("500m", ""))))
	ni.AddPod(NewPodInfo(pod("b", requests("500m", "")))) // re-adding replaces
	if ni.Requested.MilliCPU != 1500 || ni.Requested.Memory != 1<<30 || len(ni.UsedPorts) != 1 {
		t.Errorf("after adds: requested %+v, ports %v", ni.Requested, ni.UsedPorts)
	}
	if ni.NonZeroRequested.Memory != 1<<30+DefaultMemoryRequest {
		t.Errorf("non-zero memory = %d, want the default for b", ni.NonZeroRequested.Memory)
	}
	ni.RemovePod("a")
	if ni.Requested.MilliCPU != 500 || ni.Requested.Memory != 0 || len(ni.UsedPorts) != 0 {
		t.Errorf("after removal: requested %+v, ports %v", ni.Requested, ni.UsedPorts)
	}
}

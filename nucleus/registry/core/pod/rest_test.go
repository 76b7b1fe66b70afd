package pod_test

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestPodREST runs the pods endpoints of a real nucleus: validation,
// create defaults, update rules, binding, graceful deletion, eviction,
// field selectors and the table.
func TestPodREST(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nucleus")
	}
	env := testenv.Start(t)
	client := kubernetes.NewForConfigOrDie(env.Config)
	pods := client.CoreV1().Pods(metav1.NamespaceDefault)
	ctx := t.Context()

	newPod := func(name string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
		}
	}

	t.Run("invalid", func(t *testing.T) {
		p := newPod("invalid")
		p.Spec.Containers[0].Image = ""
		p.Spec.RestartPolicy = "Sometimes"
		_, err := pods.Create(ctx, p, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) {
			t.Fatalf("Create error = %v, want Invalid", err)
		}
		for _, want := range []string{
			"spec.containers[0].image: Required value",
			`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"`,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
	})

	web, err := pods.Create(ctx, newPod("web"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("create resets status", func(t *testing.T) {
		if web.Status.Phase != corev1.PodPending || web.Status.QOSClass != corev1.PodQOSBestEffort || web.Generation != 1 {
			t.Errorf("created pod: phase %q qos %q generation %d, want Pending BestEffort 1", web.Status.Phase, web.Status.QOSClass, web.Generation)
		}
	})

	t.Run("update of a fixed field", func(t *testing.T) {
		p := web.DeepCopy()
		p.Spec.RestartPolicy = corev1.RestartPolicyNever
		// Unconditional: the scheduler may have written the pod's status
		// (no nodes: PodScheduled False) since it was created.
		p.ResourceVersion = ""
		_, err := pods.Update(ctx, p, metav1.UpdateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec: Forbidden: pod updates may not change fields other than") {
			t.Errorf("Update error = %v, want the pod update Forbidden error", err)
		}
	})

	t.Run("binding", func(t *testing.T) {
		b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}
		if err := pods.Bind(ctx, b, metav1.CreateOptions{}); err != nil {
			t.Fatalf("Bind: %v", err)
		}
		got, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.NodeName != "node-1" || len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Type != corev1.PodScheduled {
			t.Errorf("bound pod: node %q conditions %+v", got.Spec.NodeName, got.Status.Conditions)
		}
		b.Target.Name = "node-2"
		err = pods.Bind(ctx, b, metav1.CreateOptions{})
		if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `pod web is already assigned to node "node-1"`) {
			t.Errorf("second Bind error = %v, want a Conflict", err)
		}
	})

	t.Run("field selector", func(t *testing.T) {
		list, err := pods.List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-1,status.phase=Pending"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 || list.Items[0].Name != "web" {
			t.Errorf("pods on node-1: %d items", len(list.Items))
		}
	})

	t.Run("table", func(t *testing.T) {
		raw, err := client.CoreV1().RESTClient().Get().Namespace(metav1.NamespaceDefault).Resource("pods").Name("web").
			SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var table metav1.Table
		if err := json.Unmarshal(raw, &table); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range table.ColumnDefinitions {
			names = append(names, c.Name)
		}
		if got := strings.Join(names, ","); got != "Name,Ready,Status,Restarts,Age,IP,Node,Nominated Node,Readiness Gates" {
			t.Errorf("columns = %s", got)
		}
		if len(table.Rows) != 1 || table.Rows[0].Cells[1] != "0/1" || table.Rows[0].Cells[2] != "Pending" || table.Rows[0].Cells[6] != "node-1" {
			t.Errorf("rows = %+v", table.Rows)
		}
	})

	t.Run("graceful deletion of a bound pod", func(t *testing.T) {
		if err := pods.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("pod gone after a graceful delete: %v", err)
		}
		if got.DeletionTimestamp == nil || got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 30 {
			t.Errorf("deleted pod: deletionTimestamp %v grace %v, want set and 30", got.DeletionTimestamp, got.DeletionGracePeriodSeconds)
		}
		if err := pods.Delete(ctx, "web", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Get after a forced delete: %v, want NotFound", err)
		}
	})

	t.Run("unbound pod goes at once", func(t *testing.T) {
		if _, err := pods.Create(ctx, newPod("pending"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := pods.Delete(ctx, "pending", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, "pending", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Get after delete: %v, want NotFound", err)
		}
	})

	t.Run("eviction", func(t *testing.T) {
		if _, err := pods.Create(ctx, newPod("evicted"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "evicted"}, Target: corev1.ObjectReference{Name: "node-1"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "evicted", Namespace: metav1.NamespaceDefault}}
		if err := client.PolicyV1().Evictions(metav1.NamespaceDefault).Evict(ctx, ev); err != nil {
			t.Fatalf("Evict: %v", err)
		}
		got, err := pods.Get(ctx, "evicted", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.DeletionTimestamp == nil || !hasCondition(got, corev1.DisruptionTarget) {
			t.Errorf("evicted pod: deletionTimestamp %v conditions %+v", got.DeletionTimestamp, got.Status.Conditions)
		}
		err = client.PolicyV1().Evictions(metav1.NamespaceDefault).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "missing", Namespace: metav1.NamespaceDefault}})
		if !apierrors.IsNotFound(err) {
			t.Errorf("evicting a missing pod: %v, want NotFound", err)
		}
	})

	t.Run("discovery", func(t *testing.T) {
		resources, err := client.Discovery().ServerResourcesForGroupVersion("v1")
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]metav1.APIResource{}
		for _, r := range resources.APIResources {
			found[r.Name] = r
		}
		if p := found["pods"]; strings.Join(p.ShortNames, ",") != "po" || strings.Join(p.Categories, ",") != "all" {
			t.Errorf("pods: short names %v categories %v", p.ShortNames, p.Categories)
		}
		if e := found["pods/eviction"]; e.Group != "policy" || e.Version != "v1" || e.Kind != "Eviction" {
			t.Errorf("pods/eviction kind = %s/%s %s, want policy/v1 Eviction", e.Group, e.Version, e.Kind)
		}
		for _, name := range []string{"pods/status", "pods/binding", "pods/ephemeralcontainers", "nodes", "nodes/status", "namespaces/finalize"} {
			if _, ok := found[name]; !ok {
				t.Errorf("%s not served", name)
			}
		}
	})
}

func hasCondition(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

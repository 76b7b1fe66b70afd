package store

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

var nodeDefinition = &Definition[*corev1.Node]{
	Resource: corev1.Resource("nodes"),
	Singular: "node",
	New:      func() *corev1.Node { return &corev1.Node{} },
	NewList:  func() runtime.Object { return &corev1.NodeList{} },
	Status:   true,
	Columns:  []metav1.TableColumnDefinition{NameColumn, AgeColumn},
	Row:      func(n *corev1.Node) []interface{} { return []interface{}{n.Name, Age(n.CreationTimestamp)} },
}

func strategies() (Strategy[*corev1.Node], StatusStrategy[*corev1.Node]) {
	s := Strategy[*corev1.Node]{ObjectTyper: clientgoscheme.Scheme, def: nodeDefinition, apiVersion: "v1"}
	return s, StatusStrategy[*corev1.Node]{Strategy: s}
}

func node(name, podCIDR string, ready corev1.ConditionStatus) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec:       corev1.NodeSpec{PodCIDR: podCIDR},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}},
	}
}

func TestMainUpdateKeepsStatusAndBumpsGeneration(t *testing.T) {
	main, _ := strategies()
	old := node("n1", "10.0.0.0/24", corev1.ConditionTrue)
	updated := node("n1", "10.0.1.0/24", corev1.ConditionFalse)
	main.PrepareForUpdate(context.Background(), updated, old)
	if updated.Status.Conditions[0].Status != corev1.ConditionTrue {
		t.Error("an update of the main resource changed the status")
	}
	if updated.Generation != 2 {
		t.Errorf("generation = %d after a spec change, want 2", updated.Generation)
	}

	same := node("n1", "10.0.0.0/24", corev1.ConditionTrue)
	same.Labels = map[string]string{"a": "b"}
	main.PrepareForUpdate(context.Background(), same, old)
	if same.Generation != 1 {
		t.Errorf("generation = %d after a metadata-only change, want 1", same.Generation)
	}
}

func TestStatusUpdateKeepsSpec(t *testing.T) {
	_, status := strategies()
	old := node("n1", "10.0.0.0/24", corev1.ConditionTrue)
	updated := node("n1", "10.0.9.0/24", corev1.ConditionFalse)
	status.PrepareForUpdate(context.Background(), updated, old)
	if updated.Spec.PodCIDR != "10.0.0.0/24" {
		t.Errorf("a status update changed the spec to %q", updated.Spec.PodCIDR)
	}
	if updated.Status.Conditions[0].Status != corev1.ConditionFalse {
		t.Error("a status update did not keep the new status")
	}
}

func TestValidateChecksNames(t *testing.T) {
	main, _ := strategies()
	if errs := main.Validate(context.Background(), node("Not_Valid", "", corev1.ConditionTrue)); len(errs) == 0 || errs[0].Field != "metadata.name" {
		t.Errorf("invalid name accepted or reported at the wrong path: %v", errs)
	}
	if errs := main.Validate(context.Background(), node("ok", "", corev1.ConditionTrue)); len(errs) != 0 {
		t.Errorf("valid node rejected: %v", errs)
	}
}

func TestTableAndAttrs(t *testing.T) {
	c := tableConvertor[*corev1.Node]{def: nodeDefinition}
	list := &corev1.NodeList{Items: []corev1.Node{*node("a", "", corev1.ConditionTrue), *node("b", "", corev1.ConditionTrue)}}
	list.ResourceVersion = "42"
	table, err := c.ConvertToTable(context.Background(), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Rows) != 2 || table.Rows[1].Cells[0] != "b" || table.ResourceVersion != "42" {
		t.Errorf("table = %+v", table)
	}
	noHeaders, _ := c.ConvertToTable(context.Background(), node("a", "", corev1.ConditionTrue), &metav1.TableOptions{NoHeaders: true})
	if noHeaders.ColumnDefinitions != nil {
		t.Error("NoHeaders still returned column definitions")
	}

	labels, fields, err := Attrs(nodeDefinition, node("a", "", corev1.ConditionTrue))
	if err != nil || fields["metadata.name"] != "a" || len(labels) != 0 {
		t.Errorf("Attrs = %v, %v, %v", labels, fields, err)
	}
	if _, has := fields["metadata.namespace"]; has {
		t.Error("a cluster-scoped object has a metadata.namespace field")
	}
}

package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestServer checks Services end to end on a running nucleus: the
// bootstrap Service, allocation errors, Table output and allocations
// surviving a restart.
func TestServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nucleus")
	}
	env := testenv.Start(t)
	client := kubernetes.NewForConfigOrDie(env.Config)
	ctx := t.Context()
	services := client.CoreV1().Services(metav1.NamespaceDefault)

	var kube *corev1.Service
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		kube, err = services.Get(ctx, "kubernetes", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("the kubernetes Service did not appear: %v", err)
	}
	if kube.Spec.ClusterIP != "10.96.0.1" {
		t.Errorf("kubernetes Service clusterIP = %s, want 10.96.0.1", kube.Spec.ClusterIP)
	}

	nodePort := func(name string, port int32) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": name},
				Ports: []corev1.ServicePort{{Port: 80, NodePort: port}}},
		}
	}
	web, err := services.Create(ctx, nodePort("web", 30080), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expectInvalid := func(svc *corev1.Service, want string) {
		t.Helper()
		_, err := services.Create(ctx, svc, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("creating %s: %v, want 422 with %q", svc.Name, err, want)
		}
	}
	expectInvalid(nodePort("web2", 30080), "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated")
	taken := nodePort("web3", 0)
	taken.Spec.ClusterIP = "10.96.0.1"
	expectInvalid(taken, `spec.clusterIPs: Invalid value: "10.96.0.1": failed to allocate IP 10.96.0.1: provided IP is already allocated`)

	raw, err := client.CoreV1().RESTClient().Get().Namespace(metav1.NamespaceDefault).Resource("services").Name("web").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	var header []string
	for _, c := range table.ColumnDefinitions {
		header = append(header, c.Name)
	}
	if diff := cmp.Diff([]string{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"}, header); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(table.Rows))
	}
	cells := table.Rows[0].Cells
	want := []interface{}{"web", "NodePort", web.Spec.ClusterIP, "<none>", "80:30080/TCP"}
	if diff := cmp.Diff(want, cells[:5]); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}

	if err := env.Restart(); err != nil {
		t.Fatal(err)
	}
	client = kubernetes.NewForConfigOrDie(env.Config)
	services = client.CoreV1().Services(metav1.NamespaceDefault)
	expectInvalid(nodePort("web4", 30080), "provided port is already allocated")

	if err := services.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := services.Create(ctx, nodePort("web5", 30080), metav1.CreateOptions{}); err != nil {
		t.Errorf("node port not released by the delete: %v", err)
	}
}

package testenv_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestStartRestart checks that an Env serves, and that Restart keeps the
// data, the port and the credentials.
func TestStartRestart(t *testing.T) {
	env := testenv.Start(t)
	client, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kept", Namespace: metav1.NamespaceDefault}, Data: map[string]string{"k": "v"}}
	created, err := client.CoreV1().ConfigMaps(metav1.NamespaceDefault).Create(t.Context(), cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a configmap: %v", err)
	}
	url := env.URL
	if err := env.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if env.URL != url {
		t.Errorf("URL after Restart = %s, want %s", env.URL, url)
	}
	got, err := client.CoreV1().ConfigMaps(metav1.NamespaceDefault).Get(t.Context(), "kept", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting the configmap after Restart: %v", err)
	}
	if got.ResourceVersion != created.ResourceVersion || got.Data["k"] != "v" {
		t.Errorf("configmap after Restart = rv %s data %v, want rv %s data map[k:v]", got.ResourceVersion, got.Data, created.ResourceVersion)
	}
	env.Stop()
	if _, err := client.CoreV1().ConfigMaps(metav1.NamespaceDefault).Get(t.Context(), "kept", metav1.GetOptions{}); err == nil || apierrors.IsNotFound(err) {
		t.Errorf("Get after Stop: err = %v, want a connection error", err)
	}
	env.Stop() // a second Stop does nothing
}

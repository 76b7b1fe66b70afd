package podenv

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/pods"
)

func TestServicesEnvironment(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewClientset(svc("default", "kubernetes", "10.96.0.1", "https:443"), svc("shop", "web", "10.96.0.20", "80"))
	services := NewServices(client)

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "p"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{{Name: "URL", Value: "http://$(WEB_SERVICE_HOST)"}}}}},
	}
	if _, err := services.ServiceEnv(ctx, pod); !errors.Is(err, ErrServicesNotSynced) {
		t.Fatalf("before the Services are listed: error %v, want %v", err, ErrServicesNotSynced)
	}
	static := pod.DeepCopy()
	static.Annotations = map[string]string{ConfigSourceAnnotation: "file"}
	if _, err := services.ServiceEnv(ctx, static); err != nil {
		t.Fatalf("a static pod does not wait for the Services: %v", err)
	}

	go services.Run(ctx)
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return services.HasSynced(), nil
	}); err != nil {
		t.Fatal("the Services never synced")
	}

	env := &pods.Environment{ServiceEnv: services.ServiceEnv}
	vars, err := env.Env(ctx, pod, &pod.Spec.Containers[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vars {
		got[v.Name] = v.Value
	}
	for name, want := range map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "WEB_SERVICE_HOST": "10.96.0.20", "URL": "http://10.96.0.20"} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}

	pod.Spec.EnableServiceLinks = ptr.To(false)
	vars, err = env.Env(ctx, pod, &pod.Spec.Containers[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vars {
		if v.Name == "KUBERNETES_SERVICE_HOST" || v.Name == "WEB_SERVICE_HOST" {
			names = append(names, v.Name)
		}
	}
	if diff := cmp.Diff([]string{"KUBERNETES_SERVICE_HOST"}, names); diff != "" {
		t.Errorf("with enableServiceLinks false (-want +got):\n%s", diff)
	}
}

func TestObjectGetterCaches(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cm"}, Data: map[string]string{"k": "v1"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s"}, Data: map[string][]byte{"k": []byte("x")}},
	)
	gets := 0
	client.PrependReactor("get", "*", func(clienttesting.Action) (bool, runtime.Object, error) {
		gets++
		return false, nil, nil
	})
	clk := testingclock.NewFakePassiveClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	objects := newObjectCache(client, DefaultObjectTTL, clk)

	for range 3 {
		cm, err := objects.GetConfigMap(ctx, "ns", "cm")
		if err != nil || cm.Data["k"] != "v1" {
			t.Fatalf("GetConfigMap = %v, %v", cm, err)
		}
		if _, err := objects.GetSecret(ctx, "ns", "s"); err != nil {
			t.Fatal(err)
		}
	}
	if gets != 2 {
		t.Errorf("%d GETs within the TTL, want 2", gets)
	}

	// An update shows once the entry expired.
	if _, err := client.CoreV1().ConfigMaps("ns").Update(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cm"}, Data: map[string]string{"k": "v2"}}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	clk.SetTime(clk.Now().Add(DefaultObjectTTL))
	cm, err := objects.GetConfigMap(ctx, "ns", "cm")
	if err != nil || cm.Data["k"] != "v2" {
		t.Fatalf("after the TTL: GetConfigMap = %v, %v", cm, err)
	}

	// Missing objects are not cached.
	gets = 0
	for range 2 {
		_, err := objects.GetSecret(ctx, "ns", "absent")
		if want := `secret "absent" not found`; err == nil || err.Error() != want {
			t.Fatalf("GetSecret of a missing Secret: %v, want %q, as upstream's kubelet says", err, want)
		}
	}
	if _, err := objects.GetConfigMap(ctx, "ns", "absent"); err == nil || err.Error() != `configmap "absent" not found` {
		t.Errorf("GetConfigMap of a missing ConfigMap: %v", err)
	}
	if gets != 3 {
		t.Errorf("%d GETs (a missing Secret twice, a missing ConfigMap once), want 3: misses are not cached", gets)
	}
}

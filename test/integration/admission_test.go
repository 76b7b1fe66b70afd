package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	utilptr "k8s.io/utils/ptr"
)

func simplePod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}},
			Containers:     []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
		},
	}
}

func TestAdmissionServiceAccount(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	// The default ServiceAccount is made by a controller in a later layer;
	// create it here.
	if _, err := c.kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := c.kube.CoreV1().Pods(ns).Create(ctx, simplePod("p"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" {
		t.Errorf("serviceAccountName = %q, want default", pod.Spec.ServiceAccountName)
	}
	var vol *corev1.Volume
	for i := range pod.Spec.Volumes {
		if strings.HasPrefix(pod.Spec.Volumes[i].Name, "kube-api-access-") {
			vol = &pod.Spec.Volumes[i]
		}
	}
	if vol == nil || len(vol.Name) != len("kube-api-access-")+5 {
		t.Fatalf("no kube-api-access-xxxxx volume in %+v", pod.Spec.Volumes)
	}
	want := &corev1.ProjectedVolumeSource{
		DefaultMode: utilptr.To[int32](0o644),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: utilptr.To[int64](3607), Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}
	if diff := cmp.Diff(want, vol.Projected); diff != "" {
		t.Errorf("token volume (-want +got):\n%s", diff)
	}
	mount := corev1.VolumeMount{Name: vol.Name, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	for _, ctr := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if diff := cmp.Diff([]corev1.VolumeMount{mount}, ctr.VolumeMounts); diff != "" {
			t.Errorf("mounts of %s (-want +got):\n%s", ctr.Name, diff)
		}
	}

	// Opting out on the pod or on the ServiceAccount mounts nothing.
	optOut := simplePod("opt-out")
	optOut.Spec.AutomountServiceAccountToken = utilptr.To(false)
	if pod, err = c.kube.CoreV1().Pods(ns).Create(ctx, optOut, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Volumes) != 0 {
		t.Errorf("automountServiceAccountToken: false pod got volumes %+v", pod.Spec.Volumes)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "quiet"}, AutomountServiceAccountToken: utilptr.To(false)}
	if _, err := c.kube.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	quiet := simplePod("quiet")
	quiet.Spec.ServiceAccountName = "quiet"
	if pod, err = c.kube.CoreV1().Pods(ns).Create(ctx, quiet, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Volumes) != 0 {
		t.Errorf("pod of a ServiceAccount with automount off got volumes %+v", pod.Spec.Volumes)
	}

	// A ServiceAccount that does not exist is refused as upstream.
	missing := simplePod("missing")
	missing.Spec.ServiceAccountName = "nobody"
	_, err = c.kube.CoreV1().Pods(ns).Create(ctx, missing, metav1.CreateOptions{})
	wantErr := `pods "missing" is forbidden: error looking up service account ` + ns + `/nobody: serviceaccount "nobody" not found`
	if !apierrors.IsForbidden(err) || err.Error() != wantErr {
		t.Errorf("pod of a missing ServiceAccount: got %v, want %s", err, wantErr)
	}
}

func TestAdmissionDefaultTolerationSeconds(t *testing.T) {
	ns := newNamespace(t)
	pod, err := c.kube.CoreV1().Pods(ns).Create(context.Background(), simplePod("p"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []corev1.Toleration{
		{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: utilptr.To[int64](300)},
		{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: utilptr.To[int64](300)},
	}
	if diff := cmp.Diff(want, pod.Spec.Tolerations); diff != "" {
		t.Errorf("tolerations (-want +got):\n%s", diff)
	}
}

func TestAdmissionLimitRanger(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	lr := &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: "limits"},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			Default:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
			Max:            corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
		}}},
	}
	if _, err := c.kube.CoreV1().LimitRanges(ns).Create(ctx, lr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pod *corev1.Pod
	// The LimitRange may take a moment to reach the admission cache.
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		p := simplePod("d" + strings.ToLower(time.Now().Format("150405.000")))
		p.Name = strings.ReplaceAll(p.Name, ".", "")
		created, err := c.kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		pod = created
		return len(created.Spec.Containers[0].Resources.Limits) > 0, nil
	})
	if err != nil {
		t.Fatalf("defaults never applied: %v", err)
	}
	want := corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
	}
	if diff := cmp.Diff(want, pod.Spec.Containers[0].Resources); diff != "" {
		t.Errorf("container resources (-want +got):\n%s", diff)
	}
	if got := pod.Annotations["kubernetes.io/limit-ranger"]; !strings.HasPrefix(got, "LimitRanger plugin set: cpu, memory request for container c") {
		t.Errorf("annotation = %q", got)
	}

	big := simplePod("big")
	big.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
	_, err = c.kube.CoreV1().Pods(ns).Create(ctx, big, metav1.CreateOptions{})
	wantErr := `pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2`
	if !apierrors.IsForbidden(err) || err.Error() != wantErr {
		t.Errorf("pod over max: got %v, want %s", err, wantErr)
	}
}

func TestAdmissionImmortalNamespaces(t *testing.T) {
	for _, ns := range []string{"default", "kube-system", "kube-public"} {
		err := c.kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		want := `namespaces "` + ns + `" is forbidden: this namespace may not be deleted`
		if !apierrors.IsForbidden(err) || err.Error() != want {
			t.Errorf("deleting %s: got %v, want %s", ns, err, want)
		}
	}
	// No objects in a namespace that does not exist.
	_, err := c.kube.CoreV1().ConfigMaps("no-such-ns").Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("configmap in a missing namespace: got %v, want 404", err)
	}
}

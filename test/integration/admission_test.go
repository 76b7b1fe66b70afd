package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"net"
	"strconv"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	utilptr "k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/testenv"
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
	// The shared nucleus runs without the serviceaccount controller; create
	// the default ServiceAccount as it would.
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

// TestAdmissionServiceAccountWithController runs the serviceaccount
// controller, as a real cluster does: a pod created right after its
// namespace waits for the default ServiceAccount and is admitted, and a pod
// of a namespace whose default ServiceAccount is gone is refused, as
// upstream.
func TestAdmissionServiceAccountWithController(t *testing.T) {
	ctx := context.Background()
	e := testenv.Start(t)
	kube := kubernetes.NewForConfigOrDie(e.Config)
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := kube.CoreV1().Pods("fresh").Create(ctx, simplePod("first"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("pod in a fresh namespace: %v", err)
	}
	if pod.Spec.ServiceAccountName != "default" || len(pod.Spec.Volumes) != 1 {
		t.Errorf("pod got serviceAccountName %q, volumes %+v", pod.Spec.ServiceAccountName, pod.Spec.Volumes)
	}
	if _, err := kube.CoreV1().ConfigMaps("fresh").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
		t.Errorf("the CA bundle the token volume projects: %v", err)
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

func TestAdmissionNamespaceLifecycle(t *testing.T) {
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

	// Nor in a namespace being deleted. A ConfigMap held by a finalizer
	// keeps the namespace Terminating while the namespace controller
	// waits for it.
	ns := newNamespace(t)
	held := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(context.Background(), held, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		_, _ = c.kube.CoreV1().ConfigMaps(ns).Patch(context.Background(), "held", types.MergePatchType, patch, metav1.PatchOptions{})
	})
	if err := c.kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `configmaps "late" is forbidden: unable to create new content in namespace ` + ns + ` because it is being terminated`
	var lastErr error
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, lastErr = c.kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{})
		if lastErr == nil {
			_ = c.kube.CoreV1().ConfigMaps(ns).Delete(ctx, "late", metav1.DeleteOptions{})
		}
		return lastErr != nil, nil
	})
	if err != nil || !apierrors.IsForbidden(lastErr) || lastErr.Error() != want {
		t.Errorf("configmap in a terminating namespace: got %v, want %s", lastErr, want)
	}
}

// webhookCase is one registration of the test webhook.
type webhookCase struct {
	name       string // webhook name, also the objectSelector value
	mutating   bool
	byService  bool
	path       string
	down       bool
	ignore     bool
	wantLabel  bool   // the created object carries webhooked=true
	wantErr    string // the creation fails with this message
	wantStatus int32
}

func TestAdmissionWebhooks(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	svcName := "hook"
	hook := startTestWebhook(t, svcName+"."+ns+".svc")

	// The Service has no selector; its Endpoints are made by hand.
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: svcName},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(int32(hook.port()))}}},
	}
	if _, err := c.kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: svcName},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: hook.ip.String()}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: int32(hook.port())}},
		}},
	}
	if _, err := c.kube.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "https://" + l.Addr().String() + "/mutate"
	l.Close()

	// A webhook that fails closed answers 500, as upstream; this client
	// does not count that as a server bug.
	plain, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}

	cases := []webhookCase{
		{name: "svc-mutate.example.com", mutating: true, byService: true, path: "/mutate", wantLabel: true},
		{name: "url-mutate.example.com", mutating: true, path: "/mutate", wantLabel: true},
		{name: "svc-deny.example.com", byService: true, path: "/deny", wantStatus: 403,
			wantErr: `admission webhook "svc-deny.example.com" denied the request: configmaps named svc-deny are not welcome`},
		{name: "url-deny.example.com", path: "/deny", wantStatus: 403,
			wantErr: `admission webhook "url-deny.example.com" denied the request: configmaps named url-deny are not welcome`},
		{name: "down-fail.example.com", down: true, wantStatus: 500,
			wantErr: `Internal error occurred: failed calling webhook "down-fail.example.com": failed to call webhook: Post "` + downURL + `?timeout=5s"`},
		{name: "down-ignore.example.com", down: true, ignore: true},
	}
	for _, tc := range cases {
		selector := &metav1.LabelSelector{MatchLabels: map[string]string{"hook": strings.Split(tc.name, ".")[0]}}
		cfg := admissionregistrationv1.WebhookClientConfig{CABundle: hook.caPEM}
		switch {
		case tc.down:
			cfg.URL = utilptr.To(downURL)
		case tc.byService:
			cfg.Service = &admissionregistrationv1.ServiceReference{Namespace: ns, Name: svcName, Path: utilptr.To(tc.path), Port: utilptr.To[int32](443)}
		default:
			cfg.URL = utilptr.To("https://" + hook.server.Listener.Addr().String() + tc.path)
		}
		policy := admissionregistrationv1.Fail
		if tc.ignore {
			policy = admissionregistrationv1.Ignore
		}
		rules := []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
		}}
		none := admissionregistrationv1.SideEffectClassNone
		name := strings.Split(tc.name, ".")[0] + "-" + ns
		if tc.mutating || tc.down {
			_, err = c.kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Webhooks: []admissionregistrationv1.MutatingWebhook{{
					Name: tc.name, ClientConfig: cfg, Rules: rules, ObjectSelector: selector, FailurePolicy: &policy,
					SideEffects: &none, AdmissionReviewVersions: []string{"v1"}, TimeoutSeconds: utilptr.To[int32](5),
				}},
			}, metav1.CreateOptions{})
		} else {
			_, err = c.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Webhooks: []admissionregistrationv1.ValidatingWebhook{{
					Name: tc.name, ClientConfig: cfg, Rules: rules, ObjectSelector: selector, FailurePolicy: &policy,
					SideEffects: &none, AdmissionReviewVersions: []string{"v1"}, TimeoutSeconds: utilptr.To[int32](5),
				}},
			}, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("registering %s: %v", tc.name, err)
		}
		t.Cleanup(func() {
			_ = c.kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(context.Background(), name, metav1.DeleteOptions{})
			_ = c.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), name, metav1.DeleteOptions{})
		})
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			short := strings.Split(tc.name, ".")[0]
			var lastErr error
			var got *corev1.ConfigMap
			// The configuration reaches the admission plugins through an
			// informer: retry until the webhook is seen to act.
			i := 0
			err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
				i++
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: short, Labels: map[string]string{"hook": short}}}
				if tc.wantErr == "" {
					cm.Name = short + "-" + strconv.Itoa(i)
				}
				got, lastErr = plain.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
				switch {
				case tc.wantErr != "":
					if lastErr == nil {
						_ = c.kube.CoreV1().ConfigMaps(ns).Delete(ctx, cm.Name, metav1.DeleteOptions{})
					}
					return lastErr != nil, nil
				case lastErr != nil:
					return false, nil
				case tc.wantLabel:
					return got.Labels["webhooked"] == "true", nil
				default:
					return i > 10, nil // Ignore: admitted every time
				}
			})
			if err != nil {
				t.Fatalf("webhook never acted: last answer %v, %+v", lastErr, got)
			}
			if tc.wantErr == "" {
				return
			}
			if !strings.HasPrefix(lastErr.Error(), tc.wantErr) {
				t.Errorf("error\n  %v\nwant prefix\n  %s", lastErr, tc.wantErr)
			}
			if code := lastErr.(apierrors.APIStatus).Status().Code; code != tc.wantStatus {
				t.Errorf("status %d, want %d", code, tc.wantStatus)
			}
		})
	}
}

package integration

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	utilptr "k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestCRDProtobufTypedClient drives the application layer's Deployment
// custom resource through client-go's typed clientset, which sends apps/v1
// bodies as protobuf. It runs its own nucleus: the shared one's tests install
// their own deployments.apps CRD.
func TestCRDProtobufTypedClient(t *testing.T) {
	ctx := context.Background()
	e := testenv.Start(t)

	raw, err := os.ReadFile("../../config/crd/bases/apps_deployments.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatal(err)
	}
	createEstablishedCRD(t, e.Config, &crd)
	createEstablishedCRD(t, e.Config, crdWithoutBuiltinType())

	kube := kubernetes.NewForConfigOrDie(e.Config)
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "proto"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		configure func(*rest.Config)
	}{{
		// kubectl's typed commands: no content type configured, so typed
		// clients of built-in kinds prefer protobuf and accept
		// "application/vnd.kubernetes.protobuf,application/json".
		name:      "protobuf preferred",
		configure: func(*rest.Config) {},
	}, {
		// Controllers configured for protobuf accept
		// "application/vnd.kubernetes.protobuf, */*".
		name:      "protobuf configured",
		configure: func(cfg *rest.Config) { cfg.ContentType = runtime.ContentTypeProtobuf },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := rest.CopyConfig(e.Config)
			tc.configure(cfg)
			seen := &contentTypes{}
			cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return seen.record(recordServerErrors{rt}) })
			deployments := kubernetes.NewForConfigOrDie(cfg).AppsV1().Deployments("proto")
			name := strings.ReplaceAll(tc.name, " ", "-")

			w, err := deployments.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			defer w.Stop()

			created, err := deployments.Create(ctx, protoDeployment(name), metav1.CreateOptions{FieldValidation: "Strict"})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if got := created.Spec.Template.Spec.Containers[0].Image; got != "nginx" {
				t.Errorf("created image = %q, want nginx", got)
			}

			select {
			case ev := <-w.ResultChan():
				if d, ok := ev.Object.(*appsv1.Deployment); ev.Type != watch.Added || !ok || d.Name != name {
					t.Errorf("first watch event: %s %#v, want ADDED of Deployment %s", ev.Type, ev.Object, name)
				}
			case <-time.After(30 * time.Second):
				t.Error("no watch event for the created deployment")
			}
			list, err := deployments.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if len(list.Items) != 1 {
				t.Errorf("list: %d items, want 1", len(list.Items))
			}

			got, err := deployments.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			got.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
			updated, err := deployments.Update(ctx, got, metav1.UpdateOptions{FieldValidation: "Strict"})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if got := updated.Spec.Template.Spec.Containers[0].Image; got != "nginx:1.27" {
				t.Errorf("updated image = %q, want nginx:1.27", got)
			}

			updated.Status.ObservedGeneration = updated.Generation
			updated.Status.Replicas = 1
			status, err := deployments.UpdateStatus(ctx, updated, metav1.UpdateOptions{FieldValidation: "Strict"})
			if err != nil {
				t.Fatalf("update status: %v", err)
			}
			if status.Status.Replicas != 1 {
				t.Errorf("status.replicas = %d, want 1", status.Status.Replicas)
			}

			scale, err := deployments.GetScale(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("get scale: %v", err)
			}
			scale.Spec.Replicas = 3
			if _, err := deployments.UpdateScale(ctx, name, scale, metav1.UpdateOptions{FieldValidation: "Strict"}); err != nil {
				t.Fatalf("update scale: %v", err)
			}
			scaled, err := deployments.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if got := utilptr.Deref(scaled.Spec.Replicas, 0); got != 3 {
				t.Errorf("spec.replicas after scaling = %d, want 3", got)
			}

			if err := deployments.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: utilptr.To(metav1.DeletePropagationForeground)}); err != nil {
				t.Fatalf("delete: %v", err)
			}

			// The requests really were protobuf.
			want := map[string]string{
				"POST deployments":        runtime.ContentTypeProtobuf,
				"PUT deployments":         runtime.ContentTypeProtobuf,
				"PUT deployments/status":  runtime.ContentTypeProtobuf,
				"PUT deployments/scale":   runtime.ContentTypeProtobuf,
				"DELETE deployments":      runtime.ContentTypeProtobuf,
				"answer POST deployments": "application/json",
				"answer PUT deployments":  "application/json",
			}
			if diff := cmp.Diff(want, seen.subset(want)); diff != "" {
				t.Errorf("content types (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("protobuf for a kind without a built-in type", func(t *testing.T) {
		cfg := rest.CopyConfig(e.Config)
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return recordServerErrors{rt} })
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// A protobuf-encoded ConfigMap: valid protobuf, but not a Widget.
		body, err := runtime.Encode(protobufCodec(t), &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: "w"},
		})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+"/apis/example.com/v1/namespaces/proto/widgets?fieldValidation=Strict", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", runtime.ContentTypeProtobuf)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("status = %d, want 415", resp.StatusCode)
		}
	})

	t.Run("kubectl-style create is rejected for an invalid object, not crashed", func(t *testing.T) {
		cfg := rest.CopyConfig(e.Config)
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return recordServerErrors{rt} })
		d := protoDeployment("invalid")
		d.Spec.Selector = nil
		_, err := kubernetes.NewForConfigOrDie(cfg).AppsV1().Deployments("proto").Create(ctx, d, metav1.CreateOptions{FieldValidation: "Strict"})
		if !apierrors.IsInvalid(err) {
			t.Errorf("create without a selector: err = %v, want 422 Invalid", err)
		}
	})
}

func protoDeployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: utilptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
			},
		},
	}
}

// crdWithoutBuiltinType is a custom resource whose kind client-go's scheme
// does not know.
func crdWithoutBuiltinType() *apiextensionsv1.CustomResourceDefinition {
	return crd("example.com", "widgets", "Widget")
}

func protobufCodec(t testing.TB) runtime.Encoder {
	t.Helper()
	for _, info := range clientgoscheme.Codecs.SupportedMediaTypes() {
		if info.MediaType == runtime.ContentTypeProtobuf {
			return info.Serializer
		}
	}
	t.Fatal("client-go's codecs have no protobuf serializer")
	return nil
}

// contentTypes records the Content-Type of the requests a client sends to
// deployments and of the answers it gets, by "METHOD resource[/subresource]"
// and "answer METHOD resource[/subresource]".
type contentTypes struct {
	mu   sync.Mutex
	seen map[string]string
}

func (c *contentTypes) record(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		key := req.Method + " " + deploymentsPath(req.URL.Path)
		resp, err := next.RoundTrip(req)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.seen == nil {
			c.seen = map[string]string{}
		}
		if ct := req.Header.Get("Content-Type"); ct != "" {
			c.seen[key] = ct
		}
		if err == nil {
			c.seen["answer "+key] = resp.Header.Get("Content-Type")
		}
		return resp, err
	})
}

func (c *contentTypes) subset(keys map[string]string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	for k := range keys {
		if v, ok := c.seen[k]; ok {
			out[k] = v
		}
	}
	return out
}

// deploymentsPath turns /apis/apps/v1/namespaces/ns/deployments[/name[/sub]]
// into deployments[/sub].
func deploymentsPath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p == "deployments" {
			if i+2 < len(parts) {
				return p + "/" + parts[i+2]
			}
			return p
		}
	}
	return path
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

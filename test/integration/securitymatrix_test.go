package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// TestSecurityMatrix checks, for every kind of identity, which requests the
// nucleus allows (2xx), refuses as unauthenticated (401) or forbids (403).
// Nothing here is granted by a webhook authorizer: it is the nucleus' own
// chain (system:masters, node authorizer, default deny).
func TestSecurityMatrix(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)

	// node-1 runs a pod that uses Secret "used"; Secret "unused" is used
	// by no pod.
	for _, name := range []string{"used", "unused"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: map[string]string{"k": "v"}}
		if _, err := c.kube.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.kube.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "matrix-node"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createServiceAccount(t, c.kube, ns, "robot")
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{
				NodeName:           "matrix-node",
				ServiceAccountName: "robot",
				Containers:         []corev1.Container{{Name: "c", Image: "busybox", EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "used"}}}}}},
			},
		}
	}
	var pods []*corev1.Pod
	for _, name := range []string{"app", "doomed"} {
		p, err := c.kube.CoreV1().Pods(ns).Create(ctx, pod(name), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods = append(pods, p)
	}
	boundToken := func(p *corev1.Pod) string {
		return requestToken(t, c.kube, ns, "robot", authenticationv1.TokenRequestSpec{
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: p.Name, UID: p.UID},
		}).Status.Token
	}
	saToken, deletedPodToken := boundToken(pods[0]), boundToken(pods[1])
	if err := c.kube.CoreV1().Pods(ns).Delete(ctx, "doomed", metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)}); err != nil {
		t.Fatal(err)
	}
	// The token stops working once the nucleus has seen the deletion.
	expectUnauthorized(t, env, deletedPodToken)

	nodeCfg, err := env.UserConfig("system:node:matrix-node", "system:nodes")
	if err != nil {
		t.Fatal(err)
	}
	aliceCfg, err := env.UserConfig("alice", "developers")
	if err != nil {
		t.Fatal(err)
	}
	withToken := func(token string) *rest.Config {
		return env.AnonymousConfig(func(c *rest.Config) { c.BearerToken = token })
	}
	identities := []struct {
		name string
		cfg  *rest.Config
	}{
		{"admin", c.config},
		{"alice", aliceCfg},
		{"node", nodeCfg},
		{"serviceaccount", withToken(saToken)},
		{"anonymous", env.AnonymousConfig()},
		{"deleted-pod-token", withToken(deletedPodToken)},
		{"garbage-token", withToken("not-a-token")},
	}

	ok, created, unauth, forbidden := http.StatusOK, http.StatusCreated, http.StatusUnauthorized, http.StatusForbidden
	nsPath := "/api/v1/namespaces/" + ns
	cmBody := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"}}`
	requests := []struct {
		name, method, path, body string
		want                     map[string]int // by identity
	}{
		{"GET /version", http.MethodGet, "/version", "",
			map[string]int{"admin": ok, "alice": ok, "node": ok, "serviceaccount": ok, "anonymous": ok, "deleted-pod-token": unauth, "garbage-token": unauth}},
		{"GET /api (discovery)", http.MethodGet, "/api", "",
			map[string]int{"admin": ok, "alice": ok, "node": ok, "serviceaccount": ok, "anonymous": forbidden, "deleted-pod-token": unauth, "garbage-token": unauth}},
		{"list pods in the namespace", http.MethodGet, nsPath + "/pods", "",
			map[string]int{"admin": ok, "alice": forbidden, "node": forbidden, "serviceaccount": forbidden, "anonymous": forbidden, "deleted-pod-token": unauth, "garbage-token": unauth}},
		{"list the node's pods", http.MethodGet, "/api/v1/pods?fieldSelector=spec.nodeName%3Dmatrix-node", "",
			map[string]int{"admin": ok, "alice": forbidden, "node": ok, "serviceaccount": forbidden, "anonymous": forbidden, "deleted-pod-token": unauth, "garbage-token": unauth}},
		{"get the secret a pod on the node uses", http.MethodGet, nsPath + "/secrets/used", "",
			map[string]int{"admin": ok, "alice": forbidden, "node": ok, "serviceaccount": forbidden, "anonymous": forbidden, "deleted-pod-token": unauth, "garbage-token": unauth}},
		{"get a secret no pod on the node uses", http.MethodGet, nsPath + "/secrets/unused", "",
			map[string]int{"admin": ok, "alice": forbidden, "node": forbidden, "serviceaccount": forbidden, "anonymous": forbidden, "deleted-pod-token": unauth, "garbage-token": unauth}},
		{"get its own node", http.MethodGet, "/api/v1/nodes/matrix-node", "",
			map[string]int{"admin": ok, "alice": forbidden, "node": ok, "serviceaccount": forbidden, "anonymous": forbidden, "deleted-pod-token": unauth, "garbage-token": unauth}},
		{"create a configmap", http.MethodPost, nsPath + "/configmaps", cmBody,
			map[string]int{"admin": created, "alice": forbidden, "node": forbidden, "serviceaccount": forbidden, "anonymous": forbidden, "deleted-pod-token": unauth, "garbage-token": unauth}},
	}

	for _, id := range identities {
		hc, err := rest.HTTPClientFor(id.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range requests {
			want, listed := r.want[id.name]
			if !listed {
				t.Fatalf("request %q has no expectation for %s", r.name, id.name)
			}
			t.Run(id.name+"/"+r.name, func(t *testing.T) {
				var body io.Reader
				if r.body != "" {
					body = strings.NewReader(fmt.Sprintf(r.body, "cm-"+id.name))
				}
				req, err := http.NewRequestWithContext(ctx, r.method, env.URL+r.path, body)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					serverErrors.add(fmt.Sprintf("%s %s as %s: %d %s", r.method, r.path, id.name, resp.StatusCode, msg))
				}
				if resp.StatusCode != want {
					t.Errorf("%s %s as %s: %d, want %d\n%s", r.method, r.path, id.name, resp.StatusCode, want, msg)
				}
			})
		}
	}
}

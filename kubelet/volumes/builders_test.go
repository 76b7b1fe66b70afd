package volumes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2/ktesting"
	testingclock "k8s.io/utils/clock/testing"
)

// --- pods ---

type podBuilder struct{ pod *corev1.Pod }

// makePod is a pod "default/<name>" with uid "uid-<name>" and one
// container "app".
func makePod(name string) *podBuilder {
	return &podBuilder{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{
			NodeName:           "node-1",
			ServiceAccountName: "default",
			Containers:         []corev1.Container{{Name: "app", Image: "busybox"}},
		},
	}}
}

// Volume adds a volume, mounted in app at mountPath unless it is "".
func (b *podBuilder) Volume(name string, src corev1.VolumeSource, mountPath string) *podBuilder {
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: src})
	if mountPath != "" {
		b.Mount(corev1.VolumeMount{Name: name, MountPath: mountPath})
	}
	return b
}

// Mount adds a volumeMount to app.
func (b *podBuilder) Mount(m corev1.VolumeMount) *podBuilder {
	c := &b.pod.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, m)
	return b
}

func (b *podBuilder) Labels(kv ...string) *podBuilder {
	b.pod.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		b.pod.Labels[kv[i]] = kv[i+1]
	}
	return b
}

func (b *podBuilder) FSGroup(gid int64) *podBuilder {
	b.pod.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: &gid}
	return b
}

func (b *podBuilder) Obj() *corev1.Pod { return b.pod }

func configMapVolume(name string) corev1.VolumeSource {
	return corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}
}

func secretVolume(name string) corev1.VolumeSource {
	return corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}
}

func emptyDirVolume() corev1.VolumeSource {
	return corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
}

// kubeAPIAccess is the projected volume admission gives every pod.
func kubeAPIAccess() corev1.VolumeSource {
	exp := int64(3607)
	return corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &exp, Path: "token"}},
		{ConfigMap: &corev1.ConfigMapProjection{
			LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
			Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
		}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}},
		}}},
	}}}
}

func configMap(name string, kv ...string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		cm.Data[kv[i]] = kv[i+1]
	}
	return cm
}

// --- the manager under test ---

type testEnv struct {
	t        *testing.T
	ctx      context.Context
	client   *fake.Clientset
	clock    *testingclock.FakeClock
	recorder *events.FakeRecorder
	podsDir  string
	m        *Manager

	mu sync.Mutex
	// tokenRequests are the TokenRequests made, as "<sa>: <spec>".
	tokenRequests []*authenticationv1.TokenRequest
	tokenErr      error
}

// newTestEnv runs a manager against a fake clientset holding objects. It
// issues tokens "token-<n>" that expire after their expirationSeconds.
func newTestEnv(t *testing.T, objects ...runtime.Object) *testEnv {
	_, ctx := ktesting.NewTestContext(t)
	e := &testEnv{
		t:        t,
		ctx:      ctx,
		client:   fake.NewClientset(objects...),
		clock:    testingclock.NewFakeClock(t0),
		recorder: events.NewFakeRecorder(100),
		podsDir:  filepath.Join(t.TempDir(), "pods"),
	}
	e.client.PrependReactor("create", "serviceaccounts", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "token" {
			return false, nil, nil
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.tokenErr != nil {
			return true, nil, e.tokenErr
		}
		req := action.(clienttesting.CreateAction).GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		e.tokenRequests = append(e.tokenRequests, req.DeepCopy())
		req.Status = authenticationv1.TokenRequestStatus{
			Token:               fmt.Sprintf("token-%d", len(e.tokenRequests)),
			ExpirationTimestamp: metav1.NewTime(e.clock.Now().Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second)),
		}
		return true, req, nil
	})
	e.m = New(Config{Client: e.client, PodsDir: e.podsDir, Recorder: e.recorder, Clock: e.clock, DisableTmpfs: true})
	// Tokens refresh when due, not a few seconds earlier.
	e.m.tokens.jitter = func() time.Duration { return 0 }
	return e
}

func (e *testEnv) setUp(pod *corev1.Pod) {
	e.t.Helper()
	if err := e.m.SetUpVolumes(e.ctx, pod); err != nil {
		e.t.Fatalf("SetUpVolumes: %v", err)
	}
}

// read reads a file of a volume of pod.
func (e *testEnv) read(pod *corev1.Pod, plugin, volume, file string) string {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(VolumeDir(e.podsDir, pod.UID, plugin, volume), file))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(data)
}

// events returns the events recorded since the last time.
func (e *testEnv) events() []string {
	var list []string
	for {
		select {
		case ev := <-e.recorder.Events:
			list = append(list, ev)
		default:
			return list
		}
	}
}

// hasEntry says whether dir has a file or directory named name.
func hasEntry(dir, name string) bool {
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		if en.Name() == name || strings.HasPrefix(en.Name(), name) {
			return true
		}
	}
	return false
}

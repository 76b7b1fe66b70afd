package serviceaccount

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

const tokenPath = "/var/run/secrets/kubernetes.io/serviceaccount"

func newPlugin(t *testing.T, sas ...*corev1.ServiceAccount) *Plugin {
	t.Helper()
	client := fake.NewClientset()
	f := informers.NewSharedInformerFactory(client, 0)
	for _, sa := range sas {
		if err := f.Core().V1().ServiceAccounts().Informer().GetStore().Add(sa); err != nil {
			t.Fatal(err)
		}
		if _, err := client.CoreV1().ServiceAccounts(sa.Namespace).Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	p := New()
	p.volumeID = func() string { return "abcde" }
	p.retryInterval = func() time.Duration { return time.Millisecond }
	p.SetExternalKubeClientSet(client)
	p.SetExternalKubeInformerFactory(f)
	p.synced = func() bool { return true }
	if err := p.ValidateInitialization(); err != nil {
		t.Fatal(err)
	}
	return p
}

func attrs(pod *corev1.Pod) admission.Attributes {
	return admission.NewAttributesRecord(pod, nil, corev1.SchemeGroupVersion.WithKind("Pod"), "ns", pod.Name,
		corev1.SchemeGroupVersion.WithResource("pods"), "", admission.Create, &metav1.CreateOptions{}, false, nil)
}

func pod(mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init"}},
			Containers:     []corev1.Container{{Name: "a"}, {Name: "b"}},
		},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func sa(name string, automount *bool) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, AutomountServiceAccountToken: automount}
}

func TestAdmit(t *testing.T) {
	mount := corev1.VolumeMount{Name: "kube-api-access-abcde", ReadOnly: true, MountPath: tokenPath}
	tests := []struct {
		name        string
		sas         []*corev1.ServiceAccount
		pod         *corev1.Pod
		wantSA      string
		wantMounted bool
		wantErr     string
		lenient     bool
	}{
		{name: "default assigned and mounted", sas: []*corev1.ServiceAccount{sa("default", nil)}, pod: pod(), wantSA: "default", wantMounted: true},
		{name: "missing default", pod: pod(),
			wantErr: `pods "p" is forbidden: error looking up service account ns/default: serviceaccount "default" not found`},
		{name: "missing default tolerated when not required", lenient: true, pod: pod(), wantSA: "default", wantMounted: true},
		{name: "named account", sas: []*corev1.ServiceAccount{sa("builder", nil)}, pod: pod(func(p *corev1.Pod) { p.Spec.ServiceAccountName = "builder" }), wantSA: "builder", wantMounted: true},
		{name: "missing named account", pod: pod(func(p *corev1.Pod) { p.Spec.ServiceAccountName = "nobody" }),
			wantErr: `pods "p" is forbidden: error looking up service account ns/nobody: serviceaccount "nobody" not found`},
		{name: "pod opts out", sas: []*corev1.ServiceAccount{sa("default", nil)}, pod: pod(func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptr.To(false) }), wantSA: "default"},
		{name: "account opts out", sas: []*corev1.ServiceAccount{sa("default", ptr.To(false))}, pod: pod(), wantSA: "default"},
		{name: "pod overrides account", sas: []*corev1.ServiceAccount{sa("default", ptr.To(false))}, pod: pod(func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptr.To(true) }), wantSA: "default", wantMounted: true},
		{name: "mirror pod untouched", pod: pod(func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"} })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlugin(t, tc.sas...)
			p.RequireDefaultServiceAccount = !tc.lenient
			err := p.Admit(context.Background(), attrs(tc.pod), nil)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.pod.Spec.ServiceAccountName != tc.wantSA {
				t.Errorf("serviceAccountName %q, want %q", tc.pod.Spec.ServiceAccountName, tc.wantSA)
			}
			var want []corev1.VolumeMount
			var wantVolumes []corev1.Volume
			if tc.wantMounted {
				want = []corev1.VolumeMount{mount}
				wantVolumes = []corev1.Volume{TokenVolume("kube-api-access-abcde")}
			}
			for _, c := range append(tc.pod.Spec.InitContainers, tc.pod.Spec.Containers...) {
				if diff := cmp.Diff(want, c.VolumeMounts); diff != "" {
					t.Errorf("mounts of %s (-want +got):\n%s", c.Name, diff)
				}
			}
			if diff := cmp.Diff(wantVolumes, tc.pod.Spec.Volumes); diff != "" {
				t.Errorf("volumes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMountTokenKeepsExistingMounts(t *testing.T) {
	p := pod(func(p *corev1.Pod) {
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "mine", MountPath: tokenPath}}
	})
	MountToken(p, "kube-api-access-xyzab")
	if got := p.Spec.Containers[0].VolumeMounts; len(got) != 1 || got[0].Name != "mine" {
		t.Errorf("a container with its own token mount got %+v", got)
	}
	if got := p.Spec.Containers[1].VolumeMounts; len(got) != 1 || got[0].Name != "kube-api-access-xyzab" {
		t.Errorf("other container got %+v", got)
	}
	// Mounting again adds nothing.
	MountToken(p, "kube-api-access-other")
	if len(p.Spec.Volumes) != 1 {
		t.Errorf("volumes after a second mount: %+v", p.Spec.Volumes)
	}
}

func TestValidateMirrorPods(t *testing.T) {
	mirror := func(m func(*corev1.Pod)) *corev1.Pod {
		return pod(func(p *corev1.Pod) {
			p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
			m(p)
		})
	}
	tests := map[string]struct {
		pod  *corev1.Pod
		want string
	}{
		"plain":           {pod: mirror(func(*corev1.Pod) {})},
		"service account": {pod: mirror(func(p *corev1.Pod) { p.Spec.ServiceAccountName = "x" }), want: "a mirror pod may not reference service accounts"},
		"secret": {pod: mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}
		}), want: "a mirror pod may not reference secrets"},
		"configmap": {pod: mirror(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}}
		}), want: "a mirror pod may not reference configmaps"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := newPlugin(t).Validate(context.Background(), attrs(tc.pod), nil)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
				t.Errorf("error %v, want …%s", err, tc.want)
			}
		})
	}
}

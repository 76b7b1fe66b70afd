package node

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

func TestReferencedObjects(t *testing.T) {
	ref := func(name string) corev1.LocalObjectReference { return corev1.LocalObjectReference{Name: name} }
	type want struct{ Secrets, ConfigMaps, Claims, Accounts []string }
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want want
	}{
		{"empty pod uses the default account", makePod("ns", "p", "n").Obj(), want{Accounts: []string{"default"}}},
		{"volumes", makePod("ns", "p", "n").ServiceAccount("sa").
			Volume(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s1"}}).
			Volume(corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: ref("c1")}}).
			Volume(corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "pvc1"}}).
			Volume(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: ref("s2")}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: ref("c2")}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
			}}}).
			Volume(corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "d", NodePublishSecretRef: &corev1.LocalObjectReference{Name: "s3"}}}).
			Volume(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}).Obj(),
			want{Secrets: []string{"s1", "s2", "s3"}, ConfigMaps: []string{"c1", "c2"}, Claims: []string{"pvc1"}, Accounts: []string{"sa"}}},
		{"generic ephemeral volume", func() *corev1.Pod {
			p := makePod("ns", "p", "n").Obj()
			p.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}}}
			return p
		}(), want{Claims: []string{"p-scratch"}, Accounts: []string{"default"}}},
		{"env and envFrom of every container kind, image pull secrets", func() *corev1.Pod {
			p := makePod("ns", "p", "n").Container(corev1.Container{Name: "app",
				Env: []corev1.EnvVar{
					{Name: "A", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: ref("s1"), Key: "k"}}},
					{Name: "B", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: ref("c1"), Key: "k"}}},
					{Name: "C", Value: "plain"},
					{Name: "D", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				},
			}).Obj()
			p.Spec.InitContainers = []corev1.Container{{Name: "init", EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: ref("s2")}}}}}
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug",
				EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: ref("c2")}}}}}}
			p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{ref("registry"), ref("")}
			return p
		}(), want{Secrets: []string{"registry", "s1", "s2"}, ConfigMaps: []string{"c1", "c2"}, Accounts: []string{"default"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ReferencedObjects(tc.pod)
			got := want{Secrets: list(r.Secrets), ConfigMaps: list(r.ConfigMaps), Claims: list(r.PersistentVolumeClaims), Accounts: list(r.ServiceAccounts)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("references (-want +got):\n%s", diff)
			}
		})
	}
}

func list(s sets.Set[string]) []string {
	if s.Len() == 0 {
		return nil
	}
	return sets.List(s)
}

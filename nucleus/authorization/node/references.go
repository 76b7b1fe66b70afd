package node

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// References are the objects of a pod's namespace that its node needs to
// run it.
type References struct {
	Secrets                sets.Set[string]
	ConfigMaps             sets.Set[string]
	PersistentVolumeClaims sets.Set[string]
	ServiceAccounts        sets.Set[string]
}

// ReferencedObjects lists what pod refers to: Secrets and ConfigMaps of
// volumes (projected ones included), of env valueFrom and envFrom of every
// container and of imagePullSecrets; PersistentVolumeClaims of volumes
// (generic ephemeral volumes included, named <pod>-<volume>); and its
// ServiceAccount.
func ReferencedObjects(pod *corev1.Pod) References {
	r := References{
		Secrets:                sets.New[string](),
		ConfigMaps:             sets.New[string](),
		PersistentVolumeClaims: sets.New[string](),
		ServiceAccounts:        sets.New[string](),
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	r.ServiceAccounts.Insert(sa)
	for _, s := range pod.Spec.ImagePullSecrets {
		addName(r.Secrets, s.Name)
	}
	for i := range pod.Spec.Volumes {
		r.addVolume(pod.Name, &pod.Spec.Volumes[i])
	}
	for _, c := range pod.Spec.InitContainers {
		r.addEnv(c.Env, c.EnvFrom)
	}
	for _, c := range pod.Spec.Containers {
		r.addEnv(c.Env, c.EnvFrom)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		r.addEnv(c.Env, c.EnvFrom)
	}
	return r
}

func (r References) addEnv(env []corev1.EnvVar, envFrom []corev1.EnvFromSource) {
	for _, e := range env {
		if e.ValueFrom == nil {
			continue
		}
		if ref := e.ValueFrom.SecretKeyRef; ref != nil {
			addName(r.Secrets, ref.Name)
		}
		if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
			addName(r.ConfigMaps, ref.Name)
		}
	}
	for _, e := range envFrom {
		if e.SecretRef != nil {
			addName(r.Secrets, e.SecretRef.Name)
		}
		if e.ConfigMapRef != nil {
			addName(r.ConfigMaps, e.ConfigMapRef.Name)
		}
	}
}

func (r References) addVolume(podName string, v *corev1.Volume) {
	s := &v.VolumeSource
	switch {
	case s.Secret != nil:
		addName(r.Secrets, s.Secret.SecretName)
	case s.ConfigMap != nil:
		addName(r.ConfigMaps, s.ConfigMap.Name)
	case s.PersistentVolumeClaim != nil:
		addName(r.PersistentVolumeClaims, s.PersistentVolumeClaim.ClaimName)
	case s.Ephemeral != nil:
		r.PersistentVolumeClaims.Insert(podName + "-" + v.Name)
	case s.Projected != nil:
		for _, p := range s.Projected.Sources {
			if p.Secret != nil {
				addName(r.Secrets, p.Secret.Name)
			}
			if p.ConfigMap != nil {
				addName(r.ConfigMaps, p.ConfigMap.Name)
			}
		}
	case s.CSI != nil && s.CSI.NodePublishSecretRef != nil:
		addName(r.Secrets, s.CSI.NodePublishSecretRef.Name)
	case s.FlexVolume != nil && s.FlexVolume.SecretRef != nil:
		addName(r.Secrets, s.FlexVolume.SecretRef.Name)
	case s.AzureFile != nil:
		addName(r.Secrets, s.AzureFile.SecretName)
	case s.CephFS != nil && s.CephFS.SecretRef != nil:
		addName(r.Secrets, s.CephFS.SecretRef.Name)
	case s.RBD != nil && s.RBD.SecretRef != nil:
		addName(r.Secrets, s.RBD.SecretRef.Name)
	case s.ISCSI != nil && s.ISCSI.SecretRef != nil:
		addName(r.Secrets, s.ISCSI.SecretRef.Name)
	case s.ScaleIO != nil && s.ScaleIO.SecretRef != nil:
		addName(r.Secrets, s.ScaleIO.SecretRef.Name)
	case s.StorageOS != nil && s.StorageOS.SecretRef != nil:
		addName(r.Secrets, s.StorageOS.SecretRef.Name)
	case s.Cinder != nil && s.Cinder.SecretRef != nil:
		addName(r.Secrets, s.Cinder.SecretRef.Name)
	}
}

func addName(s sets.Set[string], name string) {
	if name != "" {
		s.Insert(name)
	}
}

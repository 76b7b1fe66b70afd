package serviceaccount

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the serviceaccounts resource.
var Definition = &store.Definition[*corev1.ServiceAccount]{
	Resource:         corev1.Resource("serviceaccounts"),
	Singular:         "serviceaccount",
	Namespaced:       true,
	New:              func() *corev1.ServiceAccount { return &corev1.ServiceAccount{} },
	NewList:          func() runtime.Object { return &corev1.ServiceAccountList{} },
	PrepareForCreate: func(_ context.Context, sa *corev1.ServiceAccount) { cleanSecretReferences(sa) },
	PrepareForUpdate: func(_ context.Context, sa, _ *corev1.ServiceAccount) { cleanSecretReferences(sa) },
	ShortNames:       []string{"sa"},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Secrets", Type: "string", Description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."},
		store.AgeColumn,
	},
	Row: func(sa *corev1.ServiceAccount) []interface{} {
		return []interface{}{sa.Name, int64(len(sa.Secrets)), store.Age(sa.CreationTimestamp)}
	},
}

// cleanSecretReferences keeps only the name of each secret reference, as
// upstream does: the secrets live in the ServiceAccount's namespace.
func cleanSecretReferences(sa *corev1.ServiceAccount) {
	for i, ref := range sa.Secrets {
		sa.Secrets[i] = corev1.ObjectReference{Name: ref.Name}
	}
}

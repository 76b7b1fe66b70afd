// Package configmap serves core v1 ConfigMaps.
package configmap

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// MaxSize is the largest total size of a ConfigMap's data, as upstream.
const MaxSize = 1 * 1024 * 1024

// Definition describes the configmaps resource.
var Definition = &store.Definition[*corev1.ConfigMap]{
	Resource:       corev1.Resource("configmaps"),
	Singular:       "configmap",
	Namespaced:     true,
	New:            func() *corev1.ConfigMap { return &corev1.ConfigMap{} },
	NewList:        func() runtime.Object { return &corev1.ConfigMapList{} },
	Validate:       validate,
	ValidateUpdate: validateUpdate,
	ShortNames:     []string{"cm"},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Data", Type: "string", Description: "Data contains the configuration data."},
		store.AgeColumn,
	},
	Row: func(cm *corev1.ConfigMap) []interface{} {
		return []interface{}{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), store.Age(cm.CreationTimestamp)}
	},
}

func validate(_ context.Context, cm *corev1.ConfigMap) field.ErrorList {
	return ValidateData(cm.Data, cm.BinaryData)
}

// ValidateData checks ConfigMap keys and the total size.
func ValidateData(data map[string]string, binary map[string][]byte) field.ErrorList {
	var errs field.ErrorList
	total := 0
	for key, value := range data {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(key), key, msg))
		}
		if _, dup := binary[key]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(key), key, "duplicate of key present in binaryData"))
		}
		total += len(value)
	}
	for key, value := range binary {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(key), key, msg))
		}
		total += len(value)
	}
	if total > MaxSize {
		errs = append(errs, field.TooLong(field.NewPath(""), "", MaxSize))
	}
	return errs
}

func validateUpdate(_ context.Context, cm, old *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	if old.Immutable != nil && *old.Immutable {
		if cm.Immutable == nil || !*cm.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !apiequality.Semantic.DeepEqual(cm.Data, old.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
		if !apiequality.Semantic.DeepEqual(cm.BinaryData, old.BinaryData) {
			errs = append(errs, field.Forbidden(field.NewPath("binaryData"), "field is immutable when `immutable` is set"))
		}
	}
	return errs
}

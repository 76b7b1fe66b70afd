package podtemplate

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
	"github.com/strata-dev/strata/nucleus/validation"
)

// Definition describes the podtemplates resource.
var Definition = &store.Definition[*corev1.PodTemplate]{
	Resource:   corev1.Resource("podtemplates"),
	Singular:   "podtemplate",
	Namespaced: true,
	New:        func() *corev1.PodTemplate { return &corev1.PodTemplate{} },
	NewList:    func() runtime.Object { return &corev1.PodTemplateList{} },
	Validate:   func(_ context.Context, pt *corev1.PodTemplate) field.ErrorList { return Validate(pt) },
	// PodTemplates have no spec; the template is what generation counts.
	PrepareForCreate: func(_ context.Context, pt *corev1.PodTemplate) { pt.Generation = 1 },
	PrepareForUpdate: func(_ context.Context, pt, old *corev1.PodTemplate) {
		if !apiequality.Semantic.DeepEqual(pt.Template, old.Template) {
			pt.Generation = old.Generation + 1
		}
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Containers", Type: "string", Description: "Names of each container in the template."},
		{Name: "Images", Type: "string", Description: "Images referenced by each container in the template."},
		{Name: "Pod Labels", Type: "string", Description: "The labels for the pod template."},
	},
	Row: Row,
}

// Validate checks the template, which may not have ephemeral containers.
func Validate(pt *corev1.PodTemplate) field.ErrorList {
	templatePath := field.NewPath("template")
	errs := validation.ValidatePodTemplateSpec(&pt.Template, templatePath)
	if len(pt.Template.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(templatePath.Child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	return errs
}

// Row prints a PodTemplate: its containers' names and images, comma
// separated, and its pod labels.
func Row(pt *corev1.PodTemplate) []interface{} {
	names := make([]string, len(pt.Template.Spec.Containers))
	images := make([]string, len(pt.Template.Spec.Containers))
	for i, c := range pt.Template.Spec.Containers {
		names[i], images[i] = c.Name, c.Image
	}
	return []interface{}{pt.Name, strings.Join(names, ","), strings.Join(images, ","), labels.FormatLabels(pt.Template.Labels)}
}

package admissionregistration

import (
	"context"
	"fmt"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/util/webhook"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

var (
	// acceptedReviewVersions are the AdmissionReview versions the server
	// can send; a webhook must accept one of them.
	acceptedReviewVersions = []string{"v1", "v1beta1"}
	sideEffectClasses      = sets.New(admissionregistrationv1.SideEffectClassNone, admissionregistrationv1.SideEffectClassNoneOnDryRun)
	reinvocationPolicies   = sets.New(admissionregistrationv1.NeverReinvocationPolicy, admissionregistrationv1.IfNeededReinvocationPolicy)
)

// categories are those of every admissionregistration resource.
var categories = []string{"api-extensions"}

var webhookColumns = []metav1.TableColumnDefinition{
	store.NameColumn,
	{Name: "Webhooks", Type: "integer", Description: "Webhooks indicates the number of webhooks registered in this configuration"},
	store.AgeColumn,
}

// ValidatingWebhookConfigurations describes the
// validatingwebhookconfigurations resource.
var ValidatingWebhookConfigurations = &store.Definition[*admissionregistrationv1.ValidatingWebhookConfiguration]{
	Resource: admissionregistrationv1.Resource("validatingwebhookconfigurations"),
	Singular: "validatingwebhookconfiguration",
	New: func() *admissionregistrationv1.ValidatingWebhookConfiguration {
		return &admissionregistrationv1.ValidatingWebhookConfiguration{}
	},
	NewList: func() runtime.Object { return &admissionregistrationv1.ValidatingWebhookConfigurationList{} },
	Validate: func(_ context.Context, c *admissionregistrationv1.ValidatingWebhookConfiguration) field.ErrorList {
		var errs field.ErrorList
		names := sets.New[string]()
		for i := range c.Webhooks {
			w := &c.Webhooks[i]
			errs = append(errs, validateWebhook(validatingHook(w), names, field.NewPath("webhooks").Index(i))...)
		}
		return errs
	},
	PrepareForCreate: func(_ context.Context, c *admissionregistrationv1.ValidatingWebhookConfiguration) { c.Generation = 1 },
	PrepareForUpdate: func(_ context.Context, c, old *admissionregistrationv1.ValidatingWebhookConfiguration) {
		bumpGeneration(c, old, c.Webhooks, old.Webhooks)
	},
	Categories: categories,
	Columns:    webhookColumns,
	Row: func(c *admissionregistrationv1.ValidatingWebhookConfiguration) []interface{} {
		return []interface{}{c.Name, int64(len(c.Webhooks)), store.Age(c.CreationTimestamp)}
	},
}

// MutatingWebhookConfigurations describes the
// mutatingwebhookconfigurations resource.
var MutatingWebhookConfigurations = &store.Definition[*admissionregistrationv1.MutatingWebhookConfiguration]{
	Resource: admissionregistrationv1.Resource("mutatingwebhookconfigurations"),
	Singular: "mutatingwebhookconfiguration",
	New: func() *admissionregistrationv1.MutatingWebhookConfiguration {
		return &admissionregistrationv1.MutatingWebhookConfiguration{}
	},
	NewList: func() runtime.Object { return &admissionregistrationv1.MutatingWebhookConfigurationList{} },
	Validate: func(_ context.Context, c *admissionregistrationv1.MutatingWebhookConfiguration) field.ErrorList {
		var errs field.ErrorList
		names := sets.New[string]()
		for i := range c.Webhooks {
			w := &c.Webhooks[i]
			hookPath := field.NewPath("webhooks").Index(i)
			errs = append(errs, validateWebhook(mutatingHook(w), names, hookPath)...)
			if w.ReinvocationPolicy != nil && !reinvocationPolicies.Has(*w.ReinvocationPolicy) {
				errs = append(errs, field.NotSupported(hookPath.Child("reinvocationPolicy"), *w.ReinvocationPolicy, sets.List(reinvocationPolicies)))
			}
		}
		return errs
	},
	PrepareForCreate: func(_ context.Context, c *admissionregistrationv1.MutatingWebhookConfiguration) { c.Generation = 1 },
	PrepareForUpdate: func(_ context.Context, c, old *admissionregistrationv1.MutatingWebhookConfiguration) {
		bumpGeneration(c, old, c.Webhooks, old.Webhooks)
	},
	Categories: categories,
	Columns:    webhookColumns,
	Row: func(c *admissionregistrationv1.MutatingWebhookConfiguration) []interface{} {
		return []interface{}{c.Name, int64(len(c.Webhooks)), store.Age(c.CreationTimestamp)}
	},
}

// bumpGeneration counts a change of a configuration's webhooks, which
// have no spec to hold them.
func bumpGeneration(obj, old metav1.Object, webhooks, oldWebhooks interface{}) {
	if !apiequality.Semantic.DeepEqual(webhooks, oldWebhooks) {
		obj.SetGeneration(old.GetGeneration() + 1)
	}
}

// hook is what validating and mutating webhooks have in common.
type hook struct {
	name                    string
	clientConfig            admissionregistrationv1.WebhookClientConfig
	rules                   []admissionregistrationv1.RuleWithOperations
	failurePolicy           *admissionregistrationv1.FailurePolicyType
	matchPolicy             *admissionregistrationv1.MatchPolicyType
	namespaceSelector       *metav1.LabelSelector
	objectSelector          *metav1.LabelSelector
	sideEffects             *admissionregistrationv1.SideEffectClass
	timeoutSeconds          *int32
	admissionReviewVersions []string
	matchConditions         []admissionregistrationv1.MatchCondition
}

// validatingHook is the common part of a validating webhook.
func validatingHook(w *admissionregistrationv1.ValidatingWebhook) hook {
	return hook{w.Name, w.ClientConfig, w.Rules, w.FailurePolicy, w.MatchPolicy, w.NamespaceSelector,
		w.ObjectSelector, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.MatchConditions}
}

// mutatingHook is the common part of a mutating webhook.
func mutatingHook(w *admissionregistrationv1.MutatingWebhook) hook {
	return hook{w.Name, w.ClientConfig, w.Rules, w.FailurePolicy, w.MatchPolicy, w.NamespaceSelector,
		w.ObjectSelector, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.MatchConditions}
}

// validateWebhook checks one webhook of a configuration; names collects
// the names seen so far, which must be unique.
func validateWebhook(h hook, names sets.Set[string], fldPath *field.Path) field.ErrorList {
	errs := validation.IsFullyQualifiedName(fldPath.Child("name"), h.name)
	if h.name != "" {
		if names.Has(h.name) {
			errs = append(errs, field.Duplicate(fldPath.Child("name"), h.name))
		}
		names.Insert(h.name)
	}
	for i := range h.rules {
		errs = append(errs, validateRuleWithOperations(&h.rules[i], fldPath.Child("rules").Index(i))...)
	}
	if h.failurePolicy != nil && !supportedFailurePolicies.Has(*h.failurePolicy) {
		errs = append(errs, field.NotSupported(fldPath.Child("failurePolicy"), *h.failurePolicy, sets.List(supportedFailurePolicies)))
	}
	if h.matchPolicy != nil && !supportedMatchPolicies.Has(*h.matchPolicy) {
		errs = append(errs, field.NotSupported(fldPath.Child("matchPolicy"), *h.matchPolicy, sets.List(supportedMatchPolicies)))
	}
	opts := metav1validation.LabelSelectorValidationOptions{}
	errs = append(errs, metav1validation.ValidateLabelSelector(h.namespaceSelector, opts, fldPath.Child("namespaceSelector"))...)
	errs = append(errs, metav1validation.ValidateLabelSelector(h.objectSelector, opts, fldPath.Child("objectSelector"))...)
	switch {
	case h.sideEffects == nil:
		errs = append(errs, field.Required(fldPath.Child("sideEffects"), "must specify one of None, NoneOnDryRun"))
	case !sideEffectClasses.Has(*h.sideEffects):
		errs = append(errs, field.NotSupported(fldPath.Child("sideEffects"), *h.sideEffects, sets.List(sideEffectClasses)))
	}
	if h.timeoutSeconds != nil && (*h.timeoutSeconds > 30 || *h.timeoutSeconds < 1) {
		errs = append(errs, field.Invalid(fldPath.Child("timeoutSeconds"), *h.timeoutSeconds, "the timeout value must be between 1 and 30 seconds"))
	}
	errs = append(errs, validateClientConfig(&h.clientConfig, fldPath.Child("clientConfig"))...)
	errs = append(errs, validateReviewVersions(h.admissionReviewVersions, fldPath.Child("admissionReviewVersions"))...)
	if len(h.matchConditions) > 0 {
		conditionsPath := fldPath.Child("matchConditions")
		env, envErrs := newCELEnv(false, false, conditionsPath)
		errs = append(errs, envErrs...)
		errs = append(errs, validateMatchConditions(h.matchConditions, env, conditionsPath)...)
	}
	return errs
}

// validateClientConfig requires exactly one of url and service.
func validateClientConfig(cc *admissionregistrationv1.WebhookClientConfig, fldPath *field.Path) field.ErrorList {
	switch {
	case (cc.URL == nil) == (cc.Service == nil):
		return field.ErrorList{field.Required(fldPath, "exactly one of url or service is required")}
	case cc.URL != nil:
		return webhook.ValidateWebhookURL(fldPath.Child("url"), *cc.URL, true)
	default:
		port := int32(443)
		if cc.Service.Port != nil {
			port = *cc.Service.Port
		}
		return webhook.ValidateWebhookService(fldPath.Child("service"), cc.Service.Namespace, cc.Service.Name, cc.Service.Path, port)
	}
}

// validateReviewVersions requires unique, well-formed versions including
// one the server can send.
func validateReviewVersions(versions []string, fldPath *field.Path) field.ErrorList {
	if len(versions) == 0 {
		return field.ErrorList{field.Required(fldPath, fmt.Sprintf("must specify one of %v", strings.Join(acceptedReviewVersions, ", ")))}
	}
	var errs field.ErrorList
	seen := sets.New[string]()
	accepted := false
	for i, v := range versions {
		if seen.Has(v) {
			errs = append(errs, field.Invalid(fldPath.Index(i), v, "duplicate version"))
			continue
		}
		seen.Insert(v)
		for _, msg := range validation.IsDNS1035Label(v) {
			errs = append(errs, field.Invalid(fldPath.Index(i), v, msg))
		}
		accepted = accepted || slices.Contains(acceptedReviewVersions, v)
	}
	if !accepted {
		errs = append(errs, field.Invalid(fldPath, versions, fmt.Sprintf("must include at least one of %v", strings.Join(acceptedReviewVersions, ", "))))
	}
	return errs
}

package admissionregistration

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

// validatingWebhook is a valid webhook, as defaulted on decoding.
func validatingWebhook(name string) admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name: name,
		ClientConfig: admissionregistrationv1.WebhookClientConfig{
			Service: &admissionregistrationv1.ServiceReference{Namespace: "ns", Name: "svc", Port: ptr.To[int32](443)},
		},
		Rules: []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"},
				Scope: ptr.To(admissionregistrationv1.AllScopes)},
		}},
		FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
		MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
		SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
		TimeoutSeconds:          ptr.To[int32](10),
		AdmissionReviewVersions: []string{"v1"},
	}
}

func TestValidateValidatingWebhookConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*admissionregistrationv1.ValidatingWebhook)
		want   []string
	}{
		{name: "valid", modify: func(*admissionregistrationv1.ValidatingWebhook) {}},
		{name: "unqualified name", modify: func(w *admissionregistrationv1.ValidatingWebhook) { w.Name = "hook" }, want: []string{"webhooks[0].name: Invalid value"}},
		{
			name: "url and service",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) {
				w.ClientConfig.URL = ptr.To("https://example.com/hook")
			},
			want: []string{"webhooks[0].clientConfig: Required value"},
		},
		{
			name: "http url",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) {
				w.ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: ptr.To("http://example.com/hook")}
			},
			want: []string{"webhooks[0].clientConfig.url: Invalid value"},
		},
		{
			name: "service without namespace",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) {
				w.ClientConfig.Service.Namespace = ""
			},
			want: []string{"webhooks[0].clientConfig.service.namespace: Required value"},
		},
		{
			name:   "side effects",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) { w.SideEffects = nil },
			want:   []string{"webhooks[0].sideEffects: Required value"},
		},
		{
			name: "unsupported side effects",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) {
				w.SideEffects = ptr.To(admissionregistrationv1.SideEffectClassSome)
			},
			want: []string{"webhooks[0].sideEffects: Unsupported value"},
		},
		{
			name:   "review versions",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) { w.AdmissionReviewVersions = nil },
			want:   []string{"webhooks[0].admissionReviewVersions: Required value"},
		},
		{
			name:   "unknown review versions",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) { w.AdmissionReviewVersions = []string{"v2", "v2"} },
			want:   []string{"webhooks[0].admissionReviewVersions: Invalid value", "webhooks[0].admissionReviewVersions[1]: Invalid value"},
		},
		{
			name:   "timeout",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) { w.TimeoutSeconds = ptr.To[int32](31) },
			want:   []string{"webhooks[0].timeoutSeconds: Invalid value"},
		},
		{
			name: "empty rule",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) {
				w.Rules = []admissionregistrationv1.RuleWithOperations{{}}
			},
			want: []string{"webhooks[0].rules[0].apiGroups: Required value", "webhooks[0].rules[0].apiVersions: Required value",
				"webhooks[0].rules[0].operations: Required value", "webhooks[0].rules[0].resources: Required value"},
		},
		{
			name: "wildcards",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) {
				w.Rules[0].Operations = []admissionregistrationv1.OperationType{"*", "CREATE", "PATCH"}
				w.Rules[0].Resources = []string{"*", "pods", "deployments/*", "deployments/scale"}
			},
			want: []string{"webhooks[0].rules[0].operations: Invalid value", "webhooks[0].rules[0].operations[2]: Unsupported value",
				"webhooks[0].rules[0].resources: Invalid value", "webhooks[0].rules[0].resources[3]: Invalid value"},
		},
		{
			name: "match conditions",
			modify: func(w *admissionregistrationv1.ValidatingWebhook) {
				w.MatchConditions = []admissionregistrationv1.MatchCondition{
					{Name: "not-system", Expression: "!request.userInfo.username.startsWith('system:')"},
					{Name: "not-system", Expression: "request.name + 1"},
					{Name: "", Expression: " "},
				}
			},
			want: []string{"webhooks[0].matchConditions[1].expression: Invalid value", "webhooks[0].matchConditions[1].name: Duplicate value",
				"webhooks[0].matchConditions[2].expression: Required value", "webhooks[0].matchConditions[2].name: Required value"},
		},
	}
	for _, tt := range tests {
		w := validatingWebhook("hook.example.com")
		tt.modify(&w)
		c := &admissionregistrationv1.ValidatingWebhookConfiguration{Webhooks: []admissionregistrationv1.ValidatingWebhook{w}}
		got := validationtest.Summary(ValidatingWebhookConfigurations.Validate(context.Background(), c))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestValidateWebhookNamesUnique(t *testing.T) {
	c := &admissionregistrationv1.ValidatingWebhookConfiguration{Webhooks: []admissionregistrationv1.ValidatingWebhook{
		validatingWebhook("a.example.com"), validatingWebhook("b.example.com"), validatingWebhook("a.example.com"),
	}}
	got := validationtest.Summary(ValidatingWebhookConfigurations.Validate(context.Background(), c))
	if diff := cmp.Diff([]string{"webhooks[2].name: Duplicate value"}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestValidateMutatingReinvocationPolicy(t *testing.T) {
	v := validatingWebhook("m.example.com")
	w := admissionregistrationv1.MutatingWebhook{
		Name: v.Name, ClientConfig: v.ClientConfig, Rules: v.Rules, SideEffects: v.SideEffects,
		AdmissionReviewVersions: v.AdmissionReviewVersions, ReinvocationPolicy: ptr.To(admissionregistrationv1.ReinvocationPolicyType("Always")),
	}
	c := &admissionregistrationv1.MutatingWebhookConfiguration{Webhooks: []admissionregistrationv1.MutatingWebhook{w}}
	got := validationtest.Summary(MutatingWebhookConfigurations.Validate(context.Background(), c))
	if diff := cmp.Diff([]string{"webhooks[0].reinvocationPolicy: Unsupported value"}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestWebhookGeneration(t *testing.T) {
	old := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Generation: 3},
		Webhooks:   []admissionregistrationv1.ValidatingWebhook{validatingWebhook("a.example.com")},
	}
	relabelled := old.DeepCopy()
	relabelled.Labels = map[string]string{"x": "y"}
	ValidatingWebhookConfigurations.PrepareForUpdate(context.Background(), relabelled, old)
	if relabelled.Generation != 3 {
		t.Errorf("metadata change: generation %d, want 3", relabelled.Generation)
	}
	changed := old.DeepCopy()
	changed.Webhooks[0].TimeoutSeconds = ptr.To[int32](5)
	ValidatingWebhookConfigurations.PrepareForUpdate(context.Background(), changed, old)
	if changed.Generation != 4 {
		t.Errorf("webhook change: generation %d, want 4", changed.Generation)
	}
}

func TestWebhookRow(t *testing.T) {
	c := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "inject"},
		Webhooks:   []admissionregistrationv1.MutatingWebhook{{}, {}},
	}
	if diff := cmp.Diff([]interface{}{"inject", int64(2), "<unknown>"}, MutatingWebhookConfigurations.Row(c)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

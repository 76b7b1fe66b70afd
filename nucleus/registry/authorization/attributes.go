package authorization

import (
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// attributesFor turns the attributes of a review into what authorizers
// see. An empty version matches every version, as upstream.
func attributesFor(u user.Info, res *authorizationv1.ResourceAttributes, nonRes *authorizationv1.NonResourceAttributes) authorizer.AttributesRecord {
	if res == nil {
		a := authorizer.AttributesRecord{User: u}
		if nonRes != nil {
			a.Path, a.Verb = nonRes.Path, nonRes.Verb
		}
		return a
	}
	a := authorizer.AttributesRecord{
		User:            u,
		Verb:            res.Verb,
		Namespace:       res.Namespace,
		APIGroup:        res.Group,
		APIVersion:      res.Version,
		Resource:        res.Resource,
		Subresource:     res.Subresource,
		Name:            res.Name,
		ResourceRequest: true,
	}
	if a.APIVersion == "" {
		a.APIVersion = "*"
	}
	if s := res.FieldSelector; s != nil {
		a.FieldSelectorRequirements, a.FieldSelectorParsingErr = fieldRequirements(s)
	}
	if s := res.LabelSelector; s != nil {
		a.LabelSelectorRequirements, a.LabelSelectorParsingErr = labelRequirements(s)
	}
	return a
}

func fieldRequirements(s *authorizationv1.FieldSelectorAttributes) (fields.Requirements, error) {
	if s.RawSelector != "" {
		sel, err := fields.ParseSelector(s.RawSelector)
		if err != nil {
			return nil, err
		}
		return sel.Requirements(), nil
	}
	var reqs fields.Requirements
	for _, r := range s.Requirements {
		op, ok := map[metav1.FieldSelectorOperator]selection.Operator{
			metav1.FieldSelectorOpIn:    selection.Equals,
			metav1.FieldSelectorOpNotIn: selection.NotEquals,
		}[r.Operator]
		if !ok || len(r.Values) != 1 {
			return nil, fmt.Errorf("fieldSelectors do not yet support %s with %d values", r.Operator, len(r.Values))
		}
		reqs = append(reqs, fields.Requirement{Field: r.Key, Operator: op, Value: r.Values[0]})
	}
	return reqs, nil
}

func labelRequirements(s *authorizationv1.LabelSelectorAttributes) (labels.Requirements, error) {
	if s.RawSelector != "" {
		sel, err := labels.Parse(s.RawSelector)
		if err != nil {
			return nil, err
		}
		reqs, _ := sel.Requirements()
		return reqs, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchExpressions: s.Requirements})
	if err != nil {
		return nil, err
	}
	reqs, _ := sel.Requirements()
	return reqs, nil
}

// userFrom is the user a SubjectAccessReview asks about.
func userFrom(spec authorizationv1.SubjectAccessReviewSpec) user.Info {
	var extra map[string][]string
	if spec.Extra != nil {
		extra = map[string][]string{}
		for k, v := range spec.Extra {
			extra[k] = []string(v)
		}
	}
	return &user.DefaultInfo{Name: spec.User, UID: spec.UID, Groups: spec.Groups, Extra: extra}
}

// statusOf is a review's answer.
func statusOf(decision authorizer.Decision, reason string, err error) authorizationv1.SubjectAccessReviewStatus {
	s := authorizationv1.SubjectAccessReviewStatus{
		Allowed: decision == authorizer.DecisionAllow,
		Denied:  decision == authorizer.DecisionDeny,
		Reason:  reason,
	}
	if err != nil {
		s.EvaluationError = err.Error()
	}
	return s
}

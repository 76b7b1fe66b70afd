package validation

import (
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func contains[T comparable](values []T, v T) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}

// dnsSubdomain checks an optional field holding a DNS-1123 subdomain.
func dnsSubdomain(value string, fldPath *field.Path) field.ErrorList {
	if value == "" {
		return nil
	}
	return messages(fldPath, value, content.IsDNS1123Subdomain(value))
}

// dnsLabel checks an optional field holding a DNS-1123 label.
func dnsLabel(value string, fldPath *field.Path) field.ErrorList {
	if value == "" {
		return nil
	}
	return messages(fldPath, value, content.IsDNS1123Label(value))
}

// qualifiedName checks a required qualified name ("prefix/name").
func qualifiedName(value string, fldPath *field.Path) field.ErrorList {
	return messages(fldPath, value, content.IsLabelKey(value))
}

// messages turns validation messages about value into Invalid errors.
func messages(fldPath *field.Path, value interface{}, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(fldPath, value, msg))
	}
	return errs
}

package controllers

import "testing"

func TestEnabled(t *testing.T) {
	tests := []struct {
		name      string
		selection []string
		want      bool
	}{
		{"namespace", []string{"*"}, true},
		{"namespace", []string{"*", "-namespace"}, false},
		{"namespace", []string{"serviceaccount"}, false},
		{"namespace", []string{"namespace"}, true},
		{"namespace", nil, false},
	}
	for _, tt := range tests {
		if got := Enabled(tt.name, tt.selection); got != tt.want {
			t.Errorf("Enabled(%q, %v) = %v, want %v", tt.name, tt.selection, got, tt.want)
		}
	}
}

func TestValidateSelection(t *testing.T) {
	Register(Descriptor{Name: "test-only"})
	if err := ValidateSelection([]string{"*", "-test-only"}); err != nil {
		t.Errorf("valid selection rejected: %v", err)
	}
	err := ValidateSelection([]string{"nope", "-test-only"})
	if err == nil || err.Error()[:24] != "unknown controllers nope" {
		t.Errorf("error = %v, want one naming nope", err)
	}
}

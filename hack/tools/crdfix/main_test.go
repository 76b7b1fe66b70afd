/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

func TestFixSchema(t *testing.T) {
	tests := []struct {
		name      string
		schema    string
		want      string
		wantFixed []string
	}{{
		name: "optional key becomes required",
		schema: `
properties:
  conditions:
    items:
      properties:
        type: {type: string}
        status: {type: string}
      required: [status]
    type: array
    x-kubernetes-list-map-keys: [type]
    x-kubernetes-list-type: map`,
		want: `
properties:
  conditions:
    items:
      properties:
        type: {type: string}
        status: {type: string}
      required: [status, type]
    type: array
    x-kubernetes-list-map-keys: [type]
    x-kubernetes-list-type: map`,
		wantFixed: []string{"v1:.conditions[*].type"},
	}, {
		name: "defaulted and required keys stay as they are",
		schema: `
properties:
  ports:
    items:
      properties:
        containerPort: {type: integer}
        protocol: {type: string, default: TCP}
      required: [containerPort]
    type: array
    x-kubernetes-list-map-keys: [containerPort, protocol]
    x-kubernetes-list-type: map`,
	}, {
		name: "nested in arrays and maps",
		schema: `
properties:
  outer:
    additionalProperties:
      items:
        properties:
          inner:
            items:
              properties:
                name: {type: string}
            type: array
            x-kubernetes-list-map-keys: [name]
            x-kubernetes-list-type: map
        type: object
      type: array
    type: object`,
		want: `
properties:
  outer:
    additionalProperties:
      items:
        properties:
          inner:
            items:
              properties:
                name: {type: string}
              required: [name]
            type: array
            x-kubernetes-list-map-keys: [name]
            x-kubernetes-list-type: map
        type: object
      type: array
    type: object`,
		wantFixed: []string{"v1:.outer.*[*].inner[*].name"},
	}, {
		name: "atomic and set lists are left alone",
		schema: `
properties:
  finalizers:
    items: {type: string}
    type: array
    x-kubernetes-list-type: set`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, want map[string]interface{}
			if err := yaml.Unmarshal([]byte(tt.schema), &got); err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				tt.want = tt.schema
			}
			if err := yaml.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			fixed := fixSchema(got, "v1:")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("schema (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFixed, fixed); diff != "" {
				t.Errorf("fixed paths (-want +got):\n%s", diff)
			}
		})
	}
}

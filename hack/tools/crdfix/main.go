/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Command crdfix makes CRDs that controller-gen generates from upstream
// k8s.io/api types acceptable to an API server.
//
// A CRD's structural schema requires every key of a list with
// x-kubernetes-list-type=map to be required or defaulted. Upstream marks some
// such keys +optional although every element has them (the type of
// apps/v1 DeploymentStatus.conditions, for one): built-in types are not held
// to that rule, custom resources are. controller-gen cannot take markers on
// types of another module, so `make manifests` runs this over its output: it
// adds those keys to the items' required fields and leaves everything else
// as controller-gen wrote it.
//
// Usage: crdfix FILE...
package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: crdfix FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := fixFile(path); err != nil {
			fmt.Fprintf(os.Stderr, "crdfix: %v\n", err)
			os.Exit(1)
		}
	}
}

// documentStart is what controller-gen writes before each CRD.
const documentStart = "---\n"

func fixFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var crd map[string]interface{}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fixed := fixCRD(crd)
	if len(fixed) == 0 {
		return nil
	}
	out, err := yaml.Marshal(crd)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if bytes.HasPrefix(data, []byte(documentStart)) {
		out = append([]byte(documentStart), out...)
	}
	for _, f := range fixed {
		fmt.Printf("%s: %s is a list map key: made it required\n", path, f)
	}
	return os.WriteFile(path, out, 0o644)
}

// fixCRD fixes the schema of every version and returns the paths of the
// keys it made required.
func fixCRD(crd map[string]interface{}) []string {
	spec, _ := crd["spec"].(map[string]interface{})
	versions, _ := spec["versions"].([]interface{})
	var fixed []string
	for _, v := range versions {
		version, _ := v.(map[string]interface{})
		schema, _ := version["schema"].(map[string]interface{})
		root, _ := schema["openAPIV3Schema"].(map[string]interface{})
		if root != nil {
			fixed = append(fixed, fixSchema(root, fmt.Sprintf("%v:", version["name"]))...)
		}
	}
	return fixed
}

// fixSchema walks a schema and makes the keys of map lists required where
// they have no default.
func fixSchema(s map[string]interface{}, path string) []string {
	var fixed []string
	items, _ := s["items"].(map[string]interface{})
	if s["x-kubernetes-list-type"] == "map" && items != nil {
		keys, _ := s["x-kubernetes-list-map-keys"].([]interface{})
		props, _ := items["properties"].(map[string]interface{})
		required, _ := items["required"].([]interface{})
		changed := false
		for _, k := range keys {
			key, _ := k.(string)
			prop, _ := props[key].(map[string]interface{})
			if prop == nil || prop["default"] != nil || slices.Contains(required, interface{}(key)) {
				continue
			}
			required = append(required, key)
			changed = true
			fixed = append(fixed, path+"[*]."+key)
		}
		if changed {
			items["required"] = required
		}
	}
	if items != nil {
		fixed = append(fixed, fixSchema(items, path+"[*]")...)
	}
	if props, ok := s["properties"].(map[string]interface{}); ok {
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if p, ok := props[name].(map[string]interface{}); ok {
				fixed = append(fixed, fixSchema(p, path+"."+name)...)
			}
		}
	}
	if ap, ok := s["additionalProperties"].(map[string]interface{}); ok {
		fixed = append(fixed, fixSchema(ap, path+".*")...)
	}
	for _, combinator := range []string{"allOf", "anyOf", "oneOf"} {
		list, _ := s[combinator].([]interface{})
		for _, sub := range list {
			if m, ok := sub.(map[string]interface{}); ok {
				fixed = append(fixed, fixSchema(m, path)...)
			}
		}
	}
	return fixed
}

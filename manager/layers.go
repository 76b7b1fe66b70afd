/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package manager

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Layer is a set of kinds with their controllers and webhooks, run by one
// manager (`strata manager --layers <name>`) and installed by one chart.
type Layer struct {
	// Name is the layer's name: apps, batch, …
	Name string
	// Groups are the API groups whose kinds the layer serves; the layer's
	// webhook configurations hold the webhooks of these groups.
	Groups []string
	// CRDs are the CustomResourceDefinitions the layer needs (plural.group);
	// the manager refuses to start without them.
	CRDs []string
	// Setup registers the layer's controllers and webhooks with mgr.
	Setup func(mgr ctrl.Manager) error
}

// WebhookConfigurationName is the name of the layer's mutating and
// validating webhook configurations, as its chart installs them.
func (l Layer) WebhookConfigurationName() string { return "strata-" + l.Name }

var layers = map[string]Layer{}

// Register makes a layer available to `strata manager --layers`.
func Register(l Layer) {
	if _, dup := layers[l.Name]; dup {
		panic("manager: layer registered twice: " + l.Name)
	}
	layers[l.Name] = l
}

// Known lists the registered layers' names, sorted.
func Known() []string {
	names := make([]string, 0, len(layers))
	for name := range layers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// selected returns the layers named, in order, or an error naming the
// unknown ones.
func selected(names []string) ([]Layer, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no layer selected; known layers: %s", strings.Join(Known(), ", "))
	}
	var out []Layer
	for _, name := range names {
		l, ok := layers[name]
		if !ok {
			return nil, fmt.Errorf("unknown layer %q; known layers: %s", name, strings.Join(Known(), ", "))
		}
		if !slices.ContainsFunc(out, func(o Layer) bool { return o.Name == name }) {
			out = append(out, l)
		}
	}
	return out, nil
}

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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	// Kinds are the kinds the layer serves as custom resources: the manager
	// waits for their CRDs to be served and refuses to start without them.
	Kinds []schema.GroupVersionKind
	// AddToScheme adds the Go types of the layer's kinds to the manager's
	// scheme. Strata's own layers leave it nil: apis/scheme holds their
	// kinds.
	AddToScheme func(*runtime.Scheme) error
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

// LayerOf describes the layer whose kinds addToScheme registers and whose
// controllers and webhooks setup adds: a layer scaffolded with kubebuilder,
// which wires its kinds, controllers and webhooks into two such functions of
// cmd/main.go. The layer's kinds are the objects addToScheme registers
// (lists and options left out), its groups their groups, and its name the
// first label of each group, joined by "-" (example.strata.io → example).
// ok is false when addToScheme registers no kind.
func LayerOf(addToScheme func(*runtime.Scheme) error, setup func(ctrl.Manager) error) (l Layer, ok bool, err error) {
	s := runtime.NewScheme()
	if err := addToScheme(s); err != nil {
		return Layer{}, false, fmt.Errorf("adding the layer's kinds to a scheme: %w", err)
	}
	var names []string
	for gvk := range s.AllKnownTypes() {
		if gvk.Group == "" {
			continue
		}
		obj, err := s.New(gvk)
		if err != nil {
			return Layer{}, false, err
		}
		if _, isObject := obj.(metav1.Object); !isObject {
			continue // lists, WatchEvent, ListOptions …
		}
		l.Kinds = append(l.Kinds, gvk)
		if !slices.Contains(l.Groups, gvk.Group) {
			l.Groups = append(l.Groups, gvk.Group)
			if name, _, _ := strings.Cut(gvk.Group, "."); !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	if len(l.Kinds) == 0 {
		return Layer{}, false, nil
	}
	slices.SortFunc(l.Kinds, func(a, b schema.GroupVersionKind) int { return strings.Compare(a.String(), b.String()) })
	slices.Sort(l.Groups)
	slices.Sort(names)
	l.Name, l.AddToScheme, l.Setup = strings.Join(names, "-"), addToScheme, setup
	return l, true, nil
}

/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

// eventBuffer collects the events of one reconcile, from concurrent pod
// creations and deletions, so that they are emitted after the status write.
type eventBuffer struct {
	mu     sync.Mutex
	events []bufferedEvent
}

type bufferedEvent struct {
	eventType, reason, action, note string
	related                         runtime.Object
}

func (b *eventBuffer) add(eventType, reason, action string, related runtime.Object, format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, bufferedEvent{
		eventType: eventType, reason: reason, action: action,
		note: fmt.Sprintf(format, args...), related: related,
	})
}

func (b *eventBuffer) normal(reason, action string, related runtime.Object, format string, args ...any) {
	b.add(corev1.EventTypeNormal, reason, action, related, format, args...)
}

func (b *eventBuffer) warning(reason, action string, related runtime.Object, format string, args ...any) {
	b.add(corev1.EventTypeWarning, reason, action, related, format, args...)
}

// emit records the collected events about regarding.
func (b *eventBuffer) emit(rec events.EventRecorder, regarding runtime.Object) {
	if rec == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.events {
		rec.Eventf(regarding, e.related, e.eventType, e.reason, e.action, "%s", e.note)
	}
	b.events = nil
}

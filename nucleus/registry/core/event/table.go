package event

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Columns are the columns of `kubectl get events`; the priority 1 ones
// show with -o wide.
var Columns = []metav1.TableColumnDefinition{
	{Name: "Last Seen", Type: "string", Description: "Time of the last occurrence of the event."},
	{Name: "Type", Type: "string", Description: "Type of this event (Normal, Warning), new types could be added in the future."},
	{Name: "Reason", Type: "string", Description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."},
	{Name: "Object", Type: "string", Description: "The object that this event is about."},
	{Name: "Subobject", Type: "string", Priority: 1, Description: "The field of the involved object the event is about."},
	{Name: "Source", Type: "string", Priority: 1, Description: "The component reporting this event."},
	{Name: "Message", Type: "string", Description: "A human-readable description of the status of this operation."},
	{Name: "First Seen", Type: "string", Priority: 1, Description: "The time at which the event was first recorded."},
	{Name: "Count", Type: "string", Priority: 1, Description: "The number of times this event has occurred."},
	{Name: "Name", Type: "string", Priority: 1, Format: "name", Description: "Name must be unique within a namespace."},
}

// Row prints an Event as upstream's printEvent does in wide mode. Events
// of the new API have no first/last timestamps and count: their event
// time and series stand in.
func Row(e *corev1.Event) []interface{} {
	firstSeen := store.Age(e.FirstTimestamp)
	if e.FirstTimestamp.IsZero() {
		firstSeen = store.Age(metav1.Time{Time: e.EventTime.Time})
	}
	lastSeen := store.Age(e.LastTimestamp)
	if e.LastTimestamp.IsZero() {
		lastSeen = firstSeen
	}
	count := e.Count
	switch {
	case e.Series != nil:
		lastSeen = store.Age(metav1.Time{Time: e.Series.LastObservedTime.Time})
		count = e.Series.Count
	case count == 0:
		// Singleton events of the new API carry no count.
		count = 1
	}
	object := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		object = fmt.Sprintf("%s/%s", object, e.InvolvedObject.Name)
	}
	return []interface{}{
		lastSeen, e.Type, e.Reason, object, e.InvolvedObject.FieldPath,
		source(e), strings.TrimSpace(e.Message), firstSeen, int64(count), e.Name,
	}
}

// source is "component, host", taken from the old source field or else
// from the reporting controller and instance.
func source(e *corev1.Event) string {
	component, host := e.Source.Component, e.Source.Host
	if component == "" {
		component = e.ReportingController
	}
	if host == "" {
		host = e.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}

/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

func TestSetNewReplicaSetAnnotations(t *testing.T) {
	d := makeDeployment("web").Replicas(4).
		Annotation("team", "blue").
		Annotation(corev1.LastAppliedConfigAnnotation, "{}").
		Annotation(RevisionAnnotation, "7").
		Annotation(RevisionHistoryAnnotation, "1,2").
		Annotation(DesiredReplicasAnnotation, "9").
		Annotation(MaxReplicasAnnotation, "9").
		Annotation("kubernetes.io/change-cause", "kubectl set image").
		Obj()
	tests := []struct {
		name        string
		rs          *stratav1.ReplicaSet
		newRevision int64
		exists      bool
		want        map[string]string
		wantChanged bool
	}{
		{
			name:        "a ReplicaSet about to be created",
			rs:          makeRS("new", 0).Obj(),
			newRevision: 3,
			want: map[string]string{
				"team":                       "blue",
				"kubernetes.io/change-cause": "kubectl set image",
				RevisionAnnotation:           "3",
				DesiredReplicasAnnotation:    "4",
				MaxReplicasAnnotation:        "5",
			},
			wantChanged: true,
		},
		{
			name:        "an existing new ReplicaSet takes the Deployment's annotations",
			rs:          makeRS("new", 4).Revision(3).Obj(),
			newRevision: 3,
			exists:      true,
			want: map[string]string{
				"team":                       "blue",
				"kubernetes.io/change-cause": "kubectl set image",
				RevisionAnnotation:           "3",
			},
			wantChanged: true,
		},
		{
			name:        "rollback: an old ReplicaSet becomes new and records its revision",
			rs:          makeRS("old", 0).Revision(1).Obj(),
			newRevision: 4,
			exists:      true,
			want: map[string]string{
				"team":                       "blue",
				"kubernetes.io/change-cause": "kubectl set image",
				RevisionAnnotation:           "4",
				RevisionHistoryAnnotation:    "1",
			},
			wantChanged: true,
		},
		{
			name: "second rollback appends to the history",
			rs: func() *stratav1.ReplicaSet {
				rs := makeRS("old", 0).Revision(4).Obj()
				rs.Annotations[RevisionHistoryAnnotation] = "1"
				return rs
			}(),
			newRevision: 6,
			exists:      true,
			want: map[string]string{
				"team":                       "blue",
				"kubernetes.io/change-cause": "kubectl set image",
				RevisionAnnotation:           "6",
				RevisionHistoryAnnotation:    "1,4",
			},
			wantChanged: true,
		},
		{
			name:        "a higher revision is kept",
			rs:          makeRS("new", 4).Revision(9).Obj(),
			newRevision: 3,
			exists:      true,
			want: map[string]string{
				"team":                       "blue",
				"kubernetes.io/change-cause": "kubectl set image",
				RevisionAnnotation:           "9",
			},
			wantChanged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := setNewReplicaSetAnnotations(d, tt.rs, tt.newRevision, tt.exists)
			if diff := cmp.Diff(tt.want, tt.rs.Annotations); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
		})
	}

	t.Run("nothing to change", func(t *testing.T) {
		plain := makeDeployment("web").Obj()
		rs := makeRS("new", 3).Revision(2).Obj()
		if setNewReplicaSetAnnotations(plain, rs, 2, true) {
			t.Error("reported a change")
		}
	})
}

func TestAppendRevisionHistory(t *testing.T) {
	if got := appendRevisionHistory("", "3"); got != "3" {
		t.Errorf("empty history: got %q", got)
	}
	if got := appendRevisionHistory("1,2", "3"); got != "1,2,3" {
		t.Errorf("got %q", got)
	}
	// A full history drops its oldest entries.
	var revs []string
	for i := 1000; len(strings.Join(revs, ",")) < maxRevHistoryLengthInChars-4; i++ {
		revs = append(revs, strconv.Itoa(i))
	}
	full := strings.Join(revs, ",")
	got := appendRevisionHistory(full, "99999")
	if len(got) > maxRevHistoryLengthInChars {
		t.Errorf("history of %d chars, more than %d", len(got), maxRevHistoryLengthInChars)
	}
	if !strings.HasSuffix(got, ",99999") || strings.HasPrefix(got, "1000,") {
		t.Errorf("want the oldest dropped and the new one appended, got ...%s", got[len(got)-20:])
	}
}

func TestMaxRevision(t *testing.T) {
	rss := []*stratav1.ReplicaSet{
		makeRS("a", 0).Revision(3).Obj(),
		makeRS("b", 0).Revision(11).Obj(),
		makeRS("c", 0).Obj(),
		func() *stratav1.ReplicaSet {
			rs := makeRS("d", 0).Obj()
			rs.Annotations = map[string]string{RevisionAnnotation: "x"}
			return rs
		}(),
	}
	if got := maxRevision(rss); got != 11 {
		t.Errorf("got %d, want 11", got)
	}
}

func TestReplicaSetsToCleanUp(t *testing.T) {
	deleting := makeRS("deleting", 0).Revision(1).Obj()
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	unobserved := makeRS("unobserved", 0).Revision(2).Obj()
	unobserved.Generation = 2
	unobserved.Status.ObservedGeneration = 1
	tests := []struct {
		name  string
		limit *int32
		old   []*stratav1.ReplicaSet
		want  []string
	}{
		{
			name:  "oldest revisions first, down to the limit",
			limit: ptr.To[int32](1),
			old: []*stratav1.ReplicaSet{
				makeRS("r3", 0).Revision(3).Obj(),
				makeRS("r1", 0).Revision(1).Obj(),
				makeRS("r2", 0).Revision(2).Obj(),
			},
			want: []string{"r1", "r2"},
		},
		{
			name:  "within the limit",
			limit: ptr.To[int32](3),
			old:   []*stratav1.ReplicaSet{makeRS("r1", 0).Revision(1).Obj(), makeRS("r2", 0).Revision(2).Obj()},
		},
		{
			name:  "no limit keeps everything",
			limit: nil,
			old:   []*stratav1.ReplicaSet{makeRS("r1", 0).Revision(1).Obj()},
		},
		{
			name:  "ReplicaSets with replicas or pods are kept, and still count",
			limit: ptr.To[int32](0),
			old: []*stratav1.ReplicaSet{
				makeRS("scaled", 1).Revision(1).Obj(),
				lagging(makeRS("pods-left", 0).Revision(2).Obj(), 1),
				unobserved,
				makeRS("empty", 0).Revision(4).Obj(),
			},
			want: []string{"empty"},
		},
		{
			name:  "ReplicaSets being deleted do not count",
			limit: ptr.To[int32](1),
			old:   []*stratav1.ReplicaSet{deleting, makeRS("r2", 0).Revision(2).Obj(), makeRS("r3", 0).Revision(3).Obj()},
			want:  []string{"r2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := makeDeployment("web").Obj()
			d.Spec.RevisionHistoryLimit = tt.limit
			var got []string
			for _, rs := range replicaSetsToCleanUp(d, tt.old) {
				got = append(got, rs.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}

package server

import (
	"encoding/json"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

// pods serves /pods: the pods the kubelet runs, as a v1 PodList.
func (s *Server) pods(w http.ResponseWriter, r *http.Request) {
	list := &corev1.PodList{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"},
		Items:    []corev1.Pod{},
	}
	for _, p := range s.cfg.Pods.Pods() {
		list.Items = append(list.Items, *p)
	}
	writeJSON(w, r, list)
}

// summary serves /stats/summary.
func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	summary, err := s.cfg.Stats.Summary(r.Context())
	if err != nil {
		writeError(w, "Internal Error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, r, summary)
}

func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		klog.FromContext(r.Context()).V(2).Info("Writing a response failed", "path", r.URL.Path, "err", err)
	}
}

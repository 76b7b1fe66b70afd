// Package quota measures what ResourceQuotas count: object counts for the
// namespaced core resources and compute requests and limits of pods. The
// same evaluators serve the ResourceQuota admission plugin (which charges a
// request before it is stored) and the quota status controller (which
// recomputes status.used from what is stored).
package quota

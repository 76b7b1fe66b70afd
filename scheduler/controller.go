package scheduler

import (
	"github.com/strata-dev/strata/nucleus/controllers"
)

func init() {
	controllers.Register(controllers.Descriptor{Name: "scheduler", New: func(c controllers.Context) (controllers.Controller, error) {
		return New(c.Client, c.Informers)
	}})
}

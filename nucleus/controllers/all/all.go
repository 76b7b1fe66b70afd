// Package all registers every nucleus controller with package controllers.
package all

import (
	// Each package registers its controller in init.
	_ "github.com/strata-dev/strata/nucleus/controllers/endpoints"
	_ "github.com/strata-dev/strata/nucleus/controllers/garbagecollector"
	_ "github.com/strata-dev/strata/nucleus/controllers/namespace"
	_ "github.com/strata-dev/strata/nucleus/controllers/nodelifecycle"
	_ "github.com/strata-dev/strata/nucleus/controllers/persistentvolume"
	_ "github.com/strata-dev/strata/nucleus/controllers/podgc"
	_ "github.com/strata-dev/strata/nucleus/controllers/resourcequota"
	_ "github.com/strata-dev/strata/nucleus/controllers/serviceaccount"
	_ "github.com/strata-dev/strata/scheduler"
)

// Package supervisor only carries the go.mod/go.sum that pin the contrib OpAMP
// Supervisor (a `tool` line); the build script builds
// github.com/open-telemetry/opentelemetry-collector-contrib/cmd/opampsupervisor
// from here with GOFLAGS=-mod=mod. Do not run `go mod tidy` in this module: the
// Supervisor's tests import contrib's testbed, which the module proxy does not serve.
package supervisor

// Command ampora-testcol is the OpenTelemetry Collector the interop suite runs:
// the contrib OpAMP extension, the OTLP receiver, a processor that drops a share of
// the spans (ampora_drop, dropprocessor.go), and the OTLP/HTTP, debug and nop
// exporters, built at one release (see go.mod).
package main

import (
	"context"
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/nopexporter"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/opampextension"
)

const (
	coreBeta   = "v0.158.0"
	contribRel = "v0.158.0"
)

// nopReceiverFactory is a receiver of type "nop" that receives nothing. The contrib nop receiver
// module is not served at this release, but the Supervisor needs one: when its probe of the
// Collector's feature gates loses the Collector's output (a race in v0.158.0's one-shot runner, seen
// on loaded machines), it bootstraps the Collector with a pipeline of nop receiver and nop exporter.
func nopReceiverFactory() receiver.Factory {
	type nopReceiver struct {
		component.StartFunc
		component.ShutdownFunc
	}
	return receiver.NewFactory(
		component.MustNewType("nop"),
		func() component.Config { return &struct{}{} },
		receiver.WithTraces(func(context.Context, receiver.Settings, component.Config, consumer.Traces) (receiver.Traces, error) {
			return nopReceiver{}, nil
		}, component.StabilityLevelStable),
		receiver.WithMetrics(func(context.Context, receiver.Settings, component.Config, consumer.Metrics) (receiver.Metrics, error) {
			return nopReceiver{}, nil
		}, component.StabilityLevelStable),
		receiver.WithLogs(func(context.Context, receiver.Settings, component.Config, consumer.Logs) (receiver.Logs, error) {
			return nopReceiver{}, nil
		}, component.StabilityLevelStable),
	)
}

func components() (otelcol.Factories, error) {
	var err error
	f := otelcol.Factories{Telemetry: otelconftelemetry.NewFactory()}
	if f.Extensions, err = otelcol.MakeFactoryMap[extension.Factory](opampextension.NewFactory()); err != nil {
		return otelcol.Factories{}, err
	}
	if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory(), nopReceiverFactory()); err != nil {
		return otelcol.Factories{}, err
	}
	if f.Processors, err = otelcol.MakeFactoryMap[processor.Factory](dropProcessorFactory()); err != nil {
		return otelcol.Factories{}, err
	}
	if f.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](
		debugexporter.NewFactory(), nopexporter.NewFactory(), otlphttpexporter.NewFactory()); err != nil {
		return otelcol.Factories{}, err
	}
	f.ExtensionModules = map[component.Type]string{
		opampextension.NewFactory().Type(): "github.com/open-telemetry/opentelemetry-collector-contrib/extension/opampextension " + contribRel,
	}
	f.ReceiverModules = map[component.Type]string{
		otlpreceiver.NewFactory().Type(): "go.opentelemetry.io/collector/receiver/otlpreceiver " + coreBeta,
		nopReceiverFactory().Type():      "ampora.local/interop/collector",
	}
	f.ProcessorModules = map[component.Type]string{
		dropProcessorFactory().Type(): "ampora.local/interop/collector",
	}
	f.ExporterModules = map[component.Type]string{
		debugexporter.NewFactory().Type():    "go.opentelemetry.io/collector/exporter/debugexporter " + coreBeta,
		nopexporter.NewFactory().Type():      "go.opentelemetry.io/collector/exporter/nopexporter " + coreBeta,
		otlphttpexporter.NewFactory().Type(): "go.opentelemetry.io/collector/exporter/otlphttpexporter " + coreBeta,
	}
	return f, nil
}

func main() {
	set := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: "ampora-testcol", Description: "Ampora interop test Collector", Version: coreBeta},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{
					envprovider.NewFactory(), fileprovider.NewFactory(), yamlprovider.NewFactory(),
				},
			},
		},
	}
	if err := otelcol.NewCommand(set).Execute(); err != nil {
		os.Exit(1)
	}
}

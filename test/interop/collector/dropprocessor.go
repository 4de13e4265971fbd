package main

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

// dropConfig is the "ampora_drop" processor's configuration: it keeps one span in keep_one_in and
// drops the others (0 or 1 keeps every span).
type dropConfig struct {
	KeepOneIn int64 `mapstructure:"keep_one_in"`
}

// dropProcessorFactory is a traces processor that drops a fixed share of the spans it sees. It is
// built on processorhelper, so the Collector counts what it takes and passes on in its own
// otelcol_processor_incoming_items / otelcol_processor_outgoing_items metrics: the interop suite's
// drop-ratio gate reads those, as it would for any real processor that drops (a filter, a sampler).
func dropProcessorFactory() processor.Factory {
	return processor.NewFactory(
		component.MustNewType("ampora_drop"),
		func() component.Config { return &dropConfig{} },
		processor.WithTraces(func(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
			keep := cfg.(*dropConfig).KeepOneIn
			var seen atomic.Int64
			return processorhelper.NewTraces(ctx, set, cfg, next, func(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
				if keep <= 1 {
					return td, nil
				}
				td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
					rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
						ss.Spans().RemoveIf(func(ptrace.Span) bool { return seen.Add(1)%keep != 0 })
						return ss.Spans().Len() == 0
					})
					return rs.ScopeSpans().Len() == 0
				})
				if td.SpanCount() == 0 {
					return td, processorhelper.ErrSkipProcessingData
				}
				return td, nil
			}, processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
		}, component.StabilityLevelDevelopment),
	)
}

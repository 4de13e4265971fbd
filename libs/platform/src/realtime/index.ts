export * from './live-bus';
export { liveEventId, liveEventTime, DomainEvent, PublishableEvent, DeliveredEvent, isEvent, LiveStreamEvents, LiveStreamEvent, LiveFrameData, liveFrameData } from './live-event';
export { ReplayResult } from './replay-history';
export { DropOldestQueue } from './drop-oldest-queue';
export { LiveStreamService } from './live-stream.service';

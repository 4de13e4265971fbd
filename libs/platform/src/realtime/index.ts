export * from './live-bus';
export { liveEventId, liveEventTime, DomainEvent, PublishableEvent, DeliveredEvent, isEvent } from './live-event';
export { ReplayResult } from './replay-history';
export { DropOldestQueue } from './drop-oldest-queue';
export { LiveStreamService } from './live-stream.service';

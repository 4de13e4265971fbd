export * from './redis.service';

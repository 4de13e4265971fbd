export { Clock, SystemClock, SYSTEM_CLOCK, TimerHandle } from './clock';

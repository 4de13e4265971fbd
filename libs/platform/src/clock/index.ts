export { Clock, SystemClock, TimerHandle } from './clock';

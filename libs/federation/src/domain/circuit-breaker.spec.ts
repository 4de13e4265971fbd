import { CircuitBreaker } from './circuit-breaker';

describe('a peer circuit breaker', () => {
  it('opens after consecutive failures, lets one probe through when the open window passes, and closes on its success', () => {
    const b = new CircuitBreaker({ failures: 3, openMs: 1000 });
    b.failure(0);
    b.failure(10);
    expect(b.allow(20)).toBe(true);
    b.failure(20);
    expect(b.state(30)).toBe('open');
    expect(b.allow(500)).toBe(false);
    expect(b.allow(1020)).toBe(true);
    expect(b.allow(1021)).toBe(false);
    b.success();
    expect(b.state(1022)).toBe('closed');
  });

  it('opens again at once when the probe fails', () => {
    const b = new CircuitBreaker({ failures: 1, openMs: 100 });
    b.failure(0);
    expect(b.allow(100)).toBe(true);
    b.failure(100);
    expect(b.allow(150)).toBe(false);
    expect(b.retryAt()).toBe(200);
  });

  it('counts only consecutive failures', () => {
    const b = new CircuitBreaker({ failures: 2, openMs: 100 });
    b.failure(0);
    b.success();
    b.failure(1);
    expect(b.state(2)).toBe('closed');
  });
});

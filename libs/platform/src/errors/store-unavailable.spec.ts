import { isStoreUnavailable } from './store-unavailable';

describe('isStoreUnavailable', () => {
  it('recognises a database or Redis that cannot be reached', () => {
    expect(isStoreUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isStoreUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isStoreUnavailable({ message: 'query failed', driverError: { code: '57P01' } })).toBe(true);
    expect(isStoreUnavailable({ message: 'x', cause: { code: '08006' } })).toBe(true);
    expect(isStoreUnavailable(new Error('Connection is closed.'))).toBe(true);
  });

  it('leaves every other failure alone', () => {
    expect(isStoreUnavailable(new Error('duplicate key value violates unique constraint'))).toBe(false);
    expect(isStoreUnavailable({ code: '23505' })).toBe(false);
    expect(isStoreUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isStoreUnavailable(undefined)).toBe(false);
  });
});

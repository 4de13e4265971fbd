import { highestRole, parseRole, Role, roleAtLeast } from './role';

describe('roles', () => {
  it('orders Viewer < Operator < Admin', () => {
    expect(roleAtLeast(Role.Admin, Role.Operator)).toBe(true);
    expect(roleAtLeast(Role.Operator, Role.Operator)).toBe(true);
    expect(roleAtLeast(Role.Viewer, Role.Operator)).toBe(false);
  });
  it('takes the highest known role of a claim that is a string or an array', () => {
    expect(highestRole('operator')).toBe(Role.Operator);
    expect(highestRole(['Viewer', 'Admin', 'Operator'])).toBe(Role.Admin);
    expect(highestRole(['nobody', 'Viewer'])).toBe(Role.Viewer);
    expect(highestRole(['nobody'])).toBeUndefined();
    expect(highestRole(undefined)).toBeUndefined();
    expect(parseRole(42)).toBeUndefined();
  });
});

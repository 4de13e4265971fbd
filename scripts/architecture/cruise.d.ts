// Types of cruise.js (plain JavaScript so `node scripts/architecture/*.js` runs without a compiler).
export interface CruiseViolation {
  rule: { name: string; severity: string };
  from: string;
  to: string;
  cycle?: Array<{ name: string } | string>;
}
export interface CruiseResult {
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; dependencyTypes: string[] }> }>;
  summary: { violations: CruiseViolation[] };
}
export const ROOT: string;
export const SCANNED: string[];
export function cruise(options?: { cwd?: string; dirs?: string[]; tsConfig?: string }): CruiseResult;
export function describeViolations(result: CruiseResult): string[];

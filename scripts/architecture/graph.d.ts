// Types of graph.js (plain JavaScript so `node scripts/architecture/graph.js` runs without a compiler).
import type { CruiseResult } from './cruise';
export const DOC: string;
export function renderGraph(result: CruiseResult): string;
export function currentPicture(doc: string): string | undefined;

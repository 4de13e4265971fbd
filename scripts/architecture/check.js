#!/usr/bin/env node
// The boundary check on its own (it also runs in `npm test`, as scripts/architecture/boundaries.spec.ts):
// prints every violation of .dependency-cruiser.js and exits 1 when there is one.
const { cruise, describeViolations } = require('./cruise');

const lines = describeViolations(cruise());
for (const line of lines) process.stdout.write(`${line}\n`);
process.stdout.write(lines.length ? `${lines.length} boundary violation(s)\n` : 'boundaries: no violation\n');
process.exit(lines.length ? 1 : 0);

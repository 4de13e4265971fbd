#!/usr/bin/env node
// `ampora` (npx ampora) from a checkout: the built CLI when dist/ is current (npm run build), else
// the TypeScript sources through ts-node, so no build is needed (decision 0350).
const path = require('node:path');
const { entry, isBuilt, root } = require('../scripts/dist');

if (isBuilt(['cli'])) {
  require(entry('cli'));
} else {
  require('ts-node').register({ transpileOnly: true, swc: true, project: path.join(root, 'tsconfig.json') });
  require('tsconfig-paths').register({ baseUrl: root, paths: require(path.join(root, 'tsconfig.json')).compilerOptions.paths });
  require(path.join(root, 'apps', 'cli', 'src', 'main.ts'));
}

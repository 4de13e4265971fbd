/**
 * The composition root the apps (server, worker, CLI) and the test helpers share: which libs'
 * migrations, configuration sections and worker modules make up Ampora. Platform cannot know the libs
 * built on it; each lib exports its own pieces and only this directory lists them all.
 */
export * from './migrations';
export * from './worker-modules';
export * from './config';

import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The console builds into dist/console, which apps/server serves at `/` (decision 0340). Every asset
 * ships in the build (no CDN); JSX is esbuild's automatic runtime (no React plugin needed).
 */
export default defineConfig({
  root: __dirname,
  base: '/',
  esbuild: { jsx: 'automatic' },
  logLevel: 'warn',
  build: {
    outDir: resolve(__dirname, '../../dist/console'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      // React Query's and React Router's "use client" markers mean nothing in a plain SPA bundle
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:4320' } },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
  },
});

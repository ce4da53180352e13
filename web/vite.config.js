// Builds the dashboard into internal/dashboard/dist, where go:embed picks
// it up. Run from web/: npm ci && npm run build.
import { defineConfig } from 'vite';
import { sourceHashPlugin } from './build/source-hash.js';

export default defineConfig({
  base: '/ui/',
  // No public/ folder: everything the app needs is imported from src/.
  publicDir: false,
  build: {
    outDir: '../internal/dashboard/dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Chart.js alone is ~200 kB before gzip; one bundle is fine for an
    // admin tool served from loopback or a LAN.
    chunkSizeWarningLimit: 600,
    // Small enough to inline nothing: the CSP forbids data: scripts and
    // styles anyway, and separate files cache better.
    assetsInlineLimit: 0,
  },
  plugins: [sourceHashPlugin()],
});

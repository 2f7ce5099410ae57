import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The visor is served by the gateway at `/`: its hashed files under /assets/, index.html for every route.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  css: { postcss: { plugins: [] } },
  server: {
    // `npx vite` in apps/dashboard against a hub on :3000 (development only).
    proxy: { '/api': 'http://127.0.0.1:3000', '/ws': { target: 'ws://127.0.0.1:3000', ws: true } },
  },
});

import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` in client/ serves the SPA with hot reload and proxies the API
// (HTTP, WebSocket and signed files) to a running `npm start` on ATELIER_API.
const api = process.env.ATELIER_API ?? 'http://localhost:4000';

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
      '/files': { target: api, changeOrigin: true },
      '/uploads': { target: api, changeOrigin: true },
      // Single sign-on: start and callback (set ATELIER_PUBLIC_URL to this server's URL, docs/single-sign-on.md).
      '/auth': { target: api, changeOrigin: true },
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1024 },
});

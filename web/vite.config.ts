import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev -w web` proxies the API to a service on :8080; the built app is served
// by the service itself (src/http/web.ts), same origin as the API.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});

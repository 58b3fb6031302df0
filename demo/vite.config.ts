import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The demo page. Its root is demo/; the library (../src), its shaders (../shaders, loaded
 * with `new URL('../../shaders/x.wgsl', import.meta.url)`, which Vite turns into asset
 * URLs) live above it (the seed data, ./data, are imported `?raw`), so the dev server
 * may read the whole repository.
 *
 * `webgpu` (Dawn for Node) is imported by src/gpu/device.ts only when running in Node: it
 * stays an external import here and is never loaded by the page.
 */
const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));
const NODE_ONLY = ['webgpu'];

/**
 * Expected build notices about Node-only code, silenced: src/io/data.ts's `loadData`
 * (node:fs/promises, node:path) and device.ts's Node branch (node:fs, node:os) are never called in
 * the browser, where Vite replaces those modules with empty stubs.
 */
function isExpectedNodeNotice(message: string): boolean {
  return (
    /Module "node:(fs|fs\/promises|os|path)" has been externalized for browser compatibility/.test(message) ||
    /__vite-browser-external is dynamically imported by .* but also statically imported/.test(message)
  );
}
const onwarn = (warning: { message: string }, warn: (w: { message: string }) => void) => {
  if (!isExpectedNodeNotice(warning.message)) warn(warning);
};

export default defineConfig({
  root,
  base: './',
  server: { fs: { allow: [repo] } },
  optimizeDeps: { exclude: NODE_ONLY },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: { external: NODE_ONLY, onwarn },
  },
  worker: {
    // The sampler's worker lazily imports the WebGPU backend: a code-split ES worker.
    format: 'es',
    rolldownOptions: { external: NODE_ONLY },
  },
});

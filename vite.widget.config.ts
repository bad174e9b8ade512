import { defineConfig } from 'vite'

// The widget's loader, /widget.js: one small classic script (IIFE, no
// chunks, no hash in its name: sites link it by this address) that defines
// <golem-clay-widget> and nothing else. Built into the page's output folder
// after the page (`--outDir dist/test-web` for the test build).
export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist/web',
    emptyOutDir: false,
    target: 'es2022',
    copyPublicDir: false,
    lib: {
      entry: 'web/src/widget/loader/widget.ts',
      formats: ['iife'],
      name: 'GolemClayWidget',
      fileName: () => 'widget.js'
    }
  }
})

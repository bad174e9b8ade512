import { defineConfig } from '@playwright/test'

// The e2e suite drives Debian's Chromium (no browser downloads here) against
// real relay processes. Tests share the machine's two cores, so they run one
// at a time and wait on events, never on fixed sleeps.
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  outputDir: 'test-results'
})

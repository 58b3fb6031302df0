import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Dawn reads VK_ICD_FILENAMES when its instance is created, and a worker thread's
 * `process.env` is only a copy, so the SwiftShader ICD is chosen here, before any
 * test worker starts. A real GPU (or a user's own VK_ICD_FILENAMES) wins.
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const hasRealGpu = existsSync('/dev/nvidiactl') || existsSync('/dev/dri') || existsSync('/dev/kfd');
if (!process.env.VK_ICD_FILENAMES && !hasRealGpu && existsSync(SWIFTSHADER_ICD)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Kills a test process whose thread is blocked (a test that never yields), naming the test.
    setupFiles: ['test/setup/watchdog.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});

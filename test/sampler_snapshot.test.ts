/**
 * `sample({ onSnapshot })`: live positions of the first chains during sampling. On each
 * backend the snapshot after the last sampling iteration equals those chains' last recorded
 * draw, every snapshot comes after its progress report, and the draws are bitwise the same
 * as without snapshots.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sample, SAMPLING_SYNC_INTERVAL, type PositionSnapshot, type SampleOptions } from '../src/sampler/sample.ts';
import { seedData, testGpu } from './gpu_helpers.ts';

const gpu = await testGpu();
afterAll(() => gpu?.device.destroy());

const base = { data: seedData('weak'), parameterization: 'centered', chains: 64, warmup: 60, draws: 70, seed: 4 } satisfies SampleOptions;

describe.each([
  ['cpu', false],
  ['webgpu', true],
] as const)('position snapshots on the %s backend', (backend, needsGpu) => {
  it.skipIf(needsGpu && !gpu)('match the recorded draws and leave them unchanged', async () => {
    // Syncs every SAMPLING_SYNC_INTERVAL iterations however slow they run on this machine.
    const opts = { ...base, backend, gpu: gpu ?? undefined, syncSeconds: Infinity };
    const snaps: PositionSnapshot[] = [];
    const order: string[] = [];
    const withSnaps = await sample({
      ...opts,
      snapshotChains: 5,
      onProgress: (p) => p.phase === 'sampling' && order.push(`progress ${p.iteration}`),
      onSnapshot: (s) => {
        snaps.push(s);
        order.push(`snapshot ${s.iteration}`);
      },
    });
    const plain = await sample(opts);
    // Syncs at 32, 64 and the last draw.
    expect(snaps.map((s) => s.iteration)).toEqual([SAMPLING_SYNC_INTERVAL, 2 * SAMPLING_SYNC_INTERVAL, base.draws]);
    expect(order).toEqual(snaps.flatMap((s) => [`progress ${s.iteration}`, `snapshot ${s.iteration}`]));
    const D = withSnaps.model.dim;
    const last = snaps[snaps.length - 1];
    expect(last.chains).toBe(5);
    expect(last.positions.length).toBe(5 * D);
    const rec = withSnaps.records;
    for (let c = 0; c < 5; c++) {
      const row = (c * rec.draws + rec.draws - 1) * D;
      for (let d = 0; d < D; d++) expect(last.positions[c * D + d], `chain ${c} coordinate ${d}`).toBe(rec.positions[row + d]);
    }
    expect(Buffer.from(withSnaps.records.positions.buffer).equals(Buffer.from(plain.records.positions.buffer))).toBe(true);
    expect(withSnaps.totals).toEqual(plain.totals);
  });
});

/**
 * A damaged input is an error, never data; what a user's file holds never floods or
 * corrupts the terminal. One test per failure seen in the field:
 *
 * - a Zarr chunk deleted (fill_value null) was read as zeros; a chunk cut short (Blosc)
 *   was read as garbage (tau mean 0.0195, R-hat 2.998), both with exit 0;
 * - a truncated .nc printed 46 lines of HDF5 diagnostics before the error;
 * - a .nc with four flipped bytes made HDF5 loop for ever (diagnose never ended);
 * - a 10 MB cell was echoed whole into the error, binary garbage with raw control bytes;
 * - a 10 MB label made 60 MB of stdout (every table row padded to it);
 * - a warning listed every one of 5,000 groups on one 69 KB line.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { readInferenceDataDraws } from '../src/io/inference_data_read.ts';
import { toZarr } from '../src/io/zarr.ts';
import { summarize } from '../src/diagnostics/index.ts';
import { formatSummary, terminalLabel } from '../src/cli/diagnose.ts';
import { expectedDraws, netcdfBytes, smallIdata, writeZarrStore } from './idata_fixture.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fw-verify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 256 << 20,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stderr is exactly one `funnelweb: error:` line: no stack, no library dump. */
function expectOneErrorLine(stderr: string): void {
  expect(stderr).toMatch(/^funnelweb: error: [^\n]*\n$/);
}

/** Control bytes other than the line end: none may reach the terminal raw. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let counter = 0;
function fresh(name: string): string {
  return join(dir, `${counter++}-${name}`);
}

async function rejectsInput(path: string, pattern: RegExp): Promise<void> {
  const err = await readInferenceDataDraws(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toMatch(pattern);
}

describe('Zarr: a damaged store is an error, never data', () => {
  it('reads the intact store exactly', async () => {
    const z = fresh('ok.zarr');
    writeZarrStore(z);
    expect(await readInferenceDataDraws(z)).toEqual(expectedDraws());
  });

  it('an array in several chunks, the edge ones padded, reads exactly; a missing edge chunk is named', async () => {
    const files = toZarr(smallIdata());
    const want = expectedDraws();
    // theta (2 x 6 x 3) re-chunked as 1 x 4 x 2: a 2 x 2 x 2 grid, padded at the draw and group edges.
    const key = 'posterior/theta/.zarray';
    const rechunk = (doc: Record<string, unknown>) => ({ ...doc, chunks: [1, 4, 2] });
    files.set(key, new TextEncoder().encode(JSON.stringify(rechunk(JSON.parse(new TextDecoder().decode(files.get(key)))))));
    const meta = JSON.parse(new TextDecoder().decode(files.get('.zmetadata')));
    meta.metadata[key] = rechunk(meta.metadata[key]);
    files.set('.zmetadata', new TextEncoder().encode(JSON.stringify(meta)));
    files.delete('posterior/theta/0.0.0');
    const theta = new Float64Array(2 * 6 * 3);
    for (let c = 0; c < 2; c++) for (let d = 0; d < 6; d++) for (let k = 0; k < 3; k++) theta[(c * 6 + d) * 3 + k] = want.params[`theta[${['a', 'bb', 'ccc'][k]}]`][c * 6 + d];
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          const chunk = new Float64Array(1 * 4 * 2).fill(-999);
          for (let d = 0; d < 4; d++) for (let k = 0; k < 2; k++) if (i * 4 + d < 6 && j * 2 + k < 3) chunk[d * 2 + k] = theta[(c * 6 + i * 4 + d) * 3 + j * 2 + k];
          files.set(`posterior/theta/${c}.${i}.${j}`, new Uint8Array(chunk.buffer));
        }
      }
    }
    const z = fresh('chunked.zarr');
    writeZarrStore(z, files);
    expect(await readInferenceDataDraws(z)).toEqual(want);
    unlinkSync(join(z, 'posterior/theta/1.1.1'));
    await rejectsInput(z, /posterior\/theta: chunk 1\.1\.1 is missing/);
  });

  it('a deleted chunk of an array without fill_value: exit 2, one line naming the array and chunk', () => {
    const z = fresh('deleted.zarr');
    writeZarrStore(z);
    unlinkSync(join(z, 'posterior/mu/0.0'));
    const r = cli(['diagnose', z]);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toMatch(/posterior\/mu: chunk 0\.0 is missing \(the array has no fill_value\)/);
    expect(r.stdout).toBe('');
  });

  it('a Blosc chunk cut to 1,000 bytes (xarray-written golden): exit 2, not garbage', () => {
    const z = fresh('cut.zarr');
    cpSync(join(root, 'test/golden/cmdstan_warmup.zarr'), z, { recursive: true });
    truncateSync(join(z, 'posterior/tau/0.0'), 1000);
    const r = cli(['diagnose', z]);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toMatch(/posterior\/tau: chunk 0\.0: 1000 bytes, but its Blosc header says \d+ \(cut short\)/);
  });

  it('an uncompressed chunk cut short or grown: InputError naming its size', async () => {
    const z = fresh('raw.zarr');
    const files = writeZarrStore(z);
    truncateSync(join(z, 'posterior/theta/0.0.0'), 50);
    await rejectsInput(z, /posterior\/theta: chunk 0\.0\.0 has 50 bytes, expected 288 \(2 x 6 x 3 x 8\)/);
    writeZarrStore(z, files);
    writeFileSync(join(z, 'sample_stats/energy/0.0'), Buffer.concat([files.get('sample_stats/energy/0.0')!, Buffer.from([1, 2, 3])]));
    await rejectsInput(z, /sample_stats\/energy: chunk 0\.0 has 99 bytes, expected 96/);
  });

  it('.zmetadata that disagrees with an array\'s .zarray, or misses an array: InputError', async () => {
    const z = fresh('meta.zarr');
    const files = writeZarrStore(z);
    const zarray = JSON.parse(new TextDecoder().decode(files.get('posterior/mu/.zarray')));
    writeFileSync(join(z, 'posterior/mu/.zarray'), JSON.stringify({ ...zarray, chunks: [1, 6] }));
    await rejectsInput(z, /posterior\/mu\/\.zarray: differs from its copy in \.zmetadata/);
    writeZarrStore(z, files);
    const meta = JSON.parse(new TextDecoder().decode(files.get('.zmetadata')));
    delete meta.metadata['posterior/tau/.zarray'];
    delete meta.metadata['posterior/tau/.zattrs'];
    writeFileSync(join(z, '.zmetadata'), JSON.stringify(meta));
    await rejectsInput(z, /posterior\/tau: not listed in \.zmetadata/);
  });

  it('a coordinate whose length disagrees with the variables on its dimension: InputError', async () => {
    const idata = smallIdata();
    const files = toZarr(idata);
    const z = fresh('dims.zarr');
    // The group coordinate says 2 labels (its chunk cut to match), theta has 3 columns.
    const edit = (doc: Record<string, unknown>) => ({ ...doc, shape: [2], chunks: [2] });
    const key = 'posterior/group/.zarray';
    const doc = JSON.parse(new TextDecoder().decode(files.get(key)));
    files.set(key, new TextEncoder().encode(JSON.stringify(edit(doc))));
    const meta = JSON.parse(new TextDecoder().decode(files.get('.zmetadata')));
    meta.metadata[key] = edit(meta.metadata[key]);
    files.set('.zmetadata', new TextEncoder().encode(JSON.stringify(meta)));
    files.set('posterior/group/0', files.get('posterior/group/0')!.slice(0, 2 * 12));
    writeZarrStore(z, files);
    await rejectsInput(z, /posterior\/theta: dimension 'group' has size 3, elsewhere in the group 2/);
  });
});

describe('netCDF: a damaged file is one line, HDF5 quiet', () => {
  const truncated = join(dir, 'truncated.nc');
  writeFileSync(truncated, readFileSync(join(root, 'test/golden/cmdstan_warmup.nc')).subarray(0, 60_000));

  it('a truncated .nc: exit 2, one line, no HDF5 diagnostics on stderr or stdout', () => {
    const r = cli(['diagnose', truncated]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`funnelweb: error: ${truncated}: not a readable netCDF-4/HDF5 file (truncated or damaged)\n`);
    expect(r.stdout).toBe('');
  });

  it('a file on which HDF5 never ends: InputError at the time limit, and the next file reads', async () => {
    // hdf5_endless.nc is the fixture writer's file (netcdfBytes) with the bytes at 2456, 2753,
    // 6616 and 7386 (0-based) set to 205, 209, 6 and 189: HDF5 loops on it for ever.
    const endless = join(root, 'test/golden/hdf5_endless.nc');
    const err = await readInferenceDataDraws(endless, { netcdfLimitMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toBe(`${endless}: not a readable netCDF-4/HDF5 file (damaged: its read had not ended after 2 s)`);
    // The stuck reader was ended; the next read starts another.
    const sound = join(dir, 'sound.nc');
    writeFileSync(sound, await netcdfBytes());
    expect(await readInferenceDataDraws(sound)).toEqual(expectedDraws());
  });

  it("HDF5's own text only with --verbose (FUNNELWEB_VERBOSE=1)", () => {
    for (const r of [cli(['diagnose', truncated, '--verbose']), cli(['diagnose', truncated], { FUNNELWEB_VERBOSE: '1' })]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^HDF5-DIAG: Error detected in HDF5/);
      expect(r.stderr).toMatch(/not a readable netCDF-4\/HDF5 file \(truncated or damaged\)\n$/);
    }
  });
});

describe('terminal hygiene', () => {
  it('a 10 MB cell in a data CSV: exit 2, stderr under 1 KB', () => {
    const data = fresh('huge-cell.csv');
    writeFileSync(data, `group,y,sigma\na,1,1\nb,${'9x'.repeat(5_000_000)},1\n`);
    const r = cli(['sample', '--data', data, '--backend', 'cpu', '--chains', '4', '--warmup', '10', '--draws', '10']);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr.length).toBeLessThan(1024);
    expect(r.stderr).toMatch(/row 3, column 'y'.*\(10,000,000 characters\)/);
  });

  it('a 10 MB cell in a draws CSV: exit 2, stderr under 1 KB', () => {
    const draws = fresh('huge-draws.csv');
    writeFileSync(draws, `chain,draw,a\n1,1,0.5\n1,2,${'z'.repeat(10_000_000)}\n`);
    const r = cli(['diagnose', draws]);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr.length).toBeLessThan(1024);
  });

  it('binary garbage in a cell and in a flag: no raw control bytes reach stderr', () => {
    const garbage = Buffer.from([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x00, 0x07, 0x08, 0x7f, 0x9b, 0xff, 0xfe, 0x0b, 0x0c, 0x1b, 0x5d, 0x30, 0x3b]);
    const data = fresh('garbage.csv');
    writeFileSync(data, Buffer.concat([Buffer.from('group,y,sigma\na,'), garbage, Buffer.from(',1\n')]));
    const r = cli(['sample', '--data', data, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stderr).toMatch(/\\x1b\[31m\\x00\\x07\\x08\\x7f/);

    const draws = fresh('garbage-draws.csv');
    writeFileSync(draws, Buffer.concat([Buffer.from('chain,draw,a\n1,1,'), garbage, Buffer.from('\n')]));
    const d = cli(['diagnose', draws]);
    expect(d.code).toBe(2);
    expectOneErrorLine(d.stderr);
    expect(d.stderr).not.toMatch(RAW_CONTROL);

    const flag = cli(['sample', '--data', data, '--mu-prior', `normal:\u001b[2J\u0007,1`]);
    expect(flag.code).toBe(2);
    expectOneErrorLine(flag.stderr);
    expect(flag.stderr).not.toMatch(RAW_CONTROL);
  });

  it('a 10 MB parameter name: stdout stays small, the name cut in the table only, whole in --json', () => {
    const long = 'L'.repeat(10_000_000);
    const lines = [`chain,draw,mu,${long},"esc\u001b[31mape"`];
    for (let c = 1; c <= 2; c++) for (let d = 1; d <= 10; d++) lines.push(`${c},${d},${Math.sin(c * 7 + d)},${Math.cos(c * 5 + d * 3)},${d % 3}`);
    const draws = fresh('long-name.csv');
    writeFileSync(draws, lines.join('\n') + '\n');
    const json = fresh('long-name.json');
    const r = cli(['diagnose', draws, '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    // Warnings (this short synthetic fit has not mixed) name it cut too, on stderr.
    expect(r.stderr.length).toBeLessThan(4 * 1024);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    for (const line of r.stderr.split('\n')) expect(line === '' || line.startsWith('warning: '), line.slice(0, 80)).toBe(true);
    expect(r.stdout.length).toBeLessThan(8 * 1024);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain(`${'L'.repeat(39)}…`);
    expect(r.stdout).toContain('esc\\x1b[31mape');
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThan(200);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { params: Record<string, unknown> };
    expect(Object.keys(doc.params)).toEqual(['mu', long, 'esc\u001b[31mape']);
  });

  it('a 10 MB group label in the data: funnelweb sample prints a few KB, the label cut and escaped', () => {
    const data = fresh('long-label.csv');
    writeFileSync(data, `group,y,sigma\na,1,1\nb,2,1\n${'L'.repeat(10_000_000)},3,1\nesc\u001b[31m,0.5,1\n`);
    const r = cli(['sample', '--data', data, '--chains', '64', '--warmup', '50', '--draws', '50', '--backend', 'cpu', '--param', 'auto', '--seed', '2']);
    expect(r.code, r.stderr.slice(0, 500)).toBe(0);
    expect(r.stdout.length).toBeLessThan(8 * 1024);
    expect(r.stderr.length).toBeLessThan(8 * 1024);
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain(`theta[${'L'.repeat(33)}…`);
    expect(r.stdout).toMatch(/ c: a=.* L{39}…=.* esc\\x1b\[31m=/);
  });

  it('terminalLabel: short names unchanged, long ones cut to 40 with …, control bytes escaped', () => {
    expect(terminalLabel('theta[school 1]')).toBe('theta[school 1]');
    expect(terminalLabel('x'.repeat(40))).toBe('x'.repeat(40));
    expect(terminalLabel('x'.repeat(41))).toBe(`${'x'.repeat(39)}…`);
    expect(terminalLabel('a\nb\u001bc')).toBe('a\\nb\\x1bc');
  });

  it('5,000 unmixed groups: every warning line names at most 10 of them (diagnose)', () => {
    const K = 5000;
    const chains = 4;
    const draws = 20;
    const params: Record<string, Float64Array> = {};
    // Each chain sits at its own level: R-hat far above 1.01 for every parameter.
    for (let k = 0; k < K; k++) params[`theta[group ${k}]`] = Float64Array.from({ length: chains * draws }, (_, i) => Math.floor(i / draws) * 10 + Math.sin(i * (k + 1)));
    const text = formatSummary(summarize(params, chains, draws));
    const warnings = text.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) expect(w.length).toBeLessThan(1024);
    expect(warnings.join('\n')).toMatch(/R-hat > 1\.01 for theta\[group 0\], .*theta\[group 9\] … and 4,990 more/);
  });

  it('5,000 groups: funnelweb sample prints no warning line over 1 KB', () => {
    const data = fresh('k5000.csv');
    const rows = ['group,y,sigma'];
    for (let k = 0; k < 5000; k++) rows.push(`g${k},${(Math.sin(k) * 3).toFixed(3)},1`);
    writeFileSync(data, rows.join('\n') + '\n');
    const r = cli(['sample', '--data', data, '--chains', '8', '--warmup', '20', '--draws', '20', '--backend', 'cpu', '--quiet', '--seed', '1']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(lines.join('\n')).toMatch(/R-hat >= 1\.01 \(or NaN\) for .* … and [\d,]+ more: chains have not mixed/);
    for (const l of lines) expect(l.length).toBeLessThan(1024);
  });
});

/**
 * No output is ever cut: every write is checked.
 *
 * - In-process, with an injected low-level writer (always run): short writes are
 *   continued to the end; ENOSPC, EIO or a write that makes no progress become an
 *   OutputError naming the final file and the cause; the temporary is removed, nothing is
 *   left under the final name, and a file (or .zarr directory) already there is untouched.
 * - End to end on a real 64 KiB tmpfs (skipped only where `mount` is impossible, i.e. not
 *   root or no CAP_SYS_ADMIN): `sample --draws-csv`, `--summary`, `--out r.nc`,
 *   `--out r.zarr` and `compare --out DIR` on a full disk exit 1 with one line naming the
 *   file and the cause, no stack trace, no cut file and no temporary in the directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canMount, funnelweb, useTmpfs, type Run } from './cli_helpers.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutputError } from '../src/errors.ts';
import { fileHandleWriter, removePendingTemporaries, writeChunksAtomic, writeDirAtomic, writeFileAtomic, type ByteWriter } from '../src/io/write.ts';
import { drawsCsvChunks, writeDrawsCsv } from '../src/io/draws_csv_write.ts';
import { loadData } from '../src/io/data.ts';
import { sample } from '../src/sampler/sample.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WEAK = join(ROOT, 'demo', 'data', 'weak.json');

/** A system error as Node raises it. */
function sysError(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code, syscall: 'write' });
}

/** Writes at most `max` bytes per call (a short write each time). */
const shortWriter =
  (max: number): ByteWriter =>
  (fh, bytes, offset, length, position) =>
    fileHandleWriter(fh, bytes, offset, Math.min(max, length), position);

/** Writes normally until `limit` bytes are in the file, then a short write, then `code`. */
function failingWriter(limit: number, code = 'ENOSPC'): ByteWriter {
  let written = 0;
  return async (fh, bytes, offset, length, position) => {
    const room = limit - written;
    if (room <= 0) throw sysError(code);
    const n = await fileHandleWriter(fh, bytes, offset, Math.min(room, length), position);
    written += n;
    return n;
  };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'funnelweb-faults-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The directory's entries other than `keep`: temporaries left behind would show here. */
const leftovers = (d: string, keep: string[] = []) => readdirSync(d).filter((f) => !keep.includes(f));

describe('writes with an injected writer', () => {
  let d: string;
  beforeEach(() => {
    d = mkdtempSync(join(dir, 'case-'));
  });

  it('continues short writes until every byte is written', async () => {
    const text = 'é→𝔣 multi-byte text, '.repeat(200);
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 255);
    await writeFileAtomic(join(d, 'a.txt'), text, { writer: shortWriter(7) });
    expect(readFileSync(join(d, 'a.txt'), 'utf8')).toBe(text);
    await writeChunksAtomic(join(d, 'b.bin'), [bytes, 'tail\n', bytes.subarray(10, 20)], { writer: shortWriter(13) });
    const back = readFileSync(join(d, 'b.bin'));
    expect(back.byteLength).toBe(5000 + 5 + 10);
    expect(Buffer.compare(back.subarray(0, 5000), Buffer.from(bytes))).toBe(0);
    expect(back.subarray(5000, 5005).toString()).toBe('tail\n');
    await writeDirAtomic(join(d, 'c.zarr'), new Map([['x/y/0.0', bytes]]), { writer: shortWriter(100) });
    expect(Buffer.compare(readFileSync(join(d, 'c.zarr', 'x', 'y', '0.0')), Buffer.from(bytes))).toBe(0);
    expect(leftovers(d, ['a.txt', 'b.bin', 'c.zarr'])).toEqual([]);
  });

  it('turns ENOSPC after a short write into an OutputError, removes the temporary and keeps the old file', async () => {
    const target = join(d, 'out.json');
    writeFileSync(target, '{"old": true}\n');
    const err = await writeFileAtomic(target, 'x'.repeat(10_000), { writer: failingWriter(4096) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect((err as OutputError).path).toBe(target);
    expect((err as Error).message).toBe(`cannot write ${target}: no space left on the device: ENOSPC`);
    expect(readFileSync(target, 'utf8')).toBe('{"old": true}\n');
    expect(leftovers(d, ['out.json'])).toEqual([]);
    // Nothing is still registered: a later signal handler removes nothing.
    removePendingTemporaries();
    expect(readFileSync(target, 'utf8')).toBe('{"old": true}\n');
  });

  it('names EIO, EDQUOT and a write that makes no progress in plain words; nothing under the final name', async () => {
    const cases: [ByteWriter, RegExp][] = [
      [failingWriter(5, 'EIO'), /cannot write .*e\.csv: input\/output error: EIO$/],
      [failingWriter(0, 'EDQUOT'), /cannot write .*e\.csv: disk quota exceeded: EDQUOT$/],
      [async () => 0, /cannot write .*e\.csv: no bytes written at byte 0/],
    ];
    for (const [writer, message] of cases) {
      const err = await writeChunksAtomic(join(d, 'e.csv'), ['a,b\n', '1,2\n'], { writer }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutputError);
      expect((err as Error).message).toMatch(message);
      expect(leftovers(d)).toEqual([]);
    }
  });

  it('passes an error of the producer unchanged, after removing the temporary', async () => {
    function* broken(): Generator<string> {
      yield 'a,b\n';
      throw new RangeError('producer failed');
    }
    await expect(writeChunksAtomic(join(d, 'p.csv'), broken())).rejects.toThrow(RangeError);
    expect(leftovers(d)).toEqual([]);
  });

  it('writeDirAtomic: ENOSPC in the second file removes the temporary directory and keeps the old store', async () => {
    const target = join(d, 'r.zarr');
    mkdirSync(target);
    writeFileSync(join(target, '.zgroup'), 'old');
    const files = new Map([
      ['.zgroup', new TextEncoder().encode('{"zarr_format": 2}')],
      ['posterior/mu/0.0', new Uint8Array(3000)],
    ]);
    const err = await writeDirAtomic(target, files, { writer: failingWriter(1000) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect((err as Error).message).toBe(`cannot write ${target}: no space left on the device: ENOSPC`);
    expect(readdirSync(target)).toEqual(['.zgroup']);
    expect(readFileSync(join(target, '.zgroup'), 'utf8')).toBe('old');
    expect(leftovers(d, ['r.zarr'])).toEqual([]);
  });

  it('writeDrawsCsv: a disk full mid-row leaves no file; a short-writing disk gives the whole file', async () => {
    const data = await loadData(WEAK);
    const result = await sample({ data, chains: 4, warmup: 20, draws: 30, seed: 3, backend: 'cpu' });
    const whole = [...drawsCsvChunks(result)].join('');
    const path = join(d, 'draws.csv');
    await expect(writeDrawsCsv(path, result, { writer: failingWriter(whole.length >> 1) })).rejects.toThrow(/cannot write .*draws\.csv: no space left on the device: ENOSPC/);
    expect(leftovers(d)).toEqual([]);
    await writeDrawsCsv(path, result, { writer: shortWriter(997) });
    expect(readFileSync(path, 'utf8')).toBe(whole);
  });

  it('writeDrawsCsv reports the rows written as it goes (the write progress line), ending at every row', async () => {
    const data = await loadData(WEAK);
    const result = await sample({ data, chains: 7, warmup: 10, draws: 3000, seed: 3, backend: 'cpu' });
    const rows: number[] = [];
    const path = join(d, 'counted.csv');
    await writeDrawsCsv(path, result, { onRows: (n) => rows.push(n) });
    // 21,000 rows in pieces of 10,000: reported before each piece is made, then at the end.
    expect(rows).toEqual([0, 10_000, 20_000, 21_000]);
    expect(readFileSync(path, 'utf8')).toBe([...drawsCsvChunks(result)].join(''));
  });
});



/** Exit 1 and exactly one error line, naming `file` and ENOSPC, and no stack trace. */
function expectDiskFull(r: Run, file: string): void {
  expect(r.code, r.stderr).toBe(1);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('funnelweb: error:'));
  expect(errors).toEqual([`funnelweb: error: cannot write ${file}: no space left on the device: ENOSPC`]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/^\w*Error\b/m);
}

const SMALL = ['--backend', 'cpu', '--chains', '64', '--warmup', '50', '--draws', '50', '--quiet'];

describe.skipIf(!canMount())('a full disk (a real 64 KiB tmpfs)', () => {
  const mnt = useTmpfs(() => dir, 'full', 'size=64k');
  beforeEach(() => {
    for (const f of readdirSync(mnt())) rmSync(join(mnt(), f), { recursive: true, force: true });
  });
  /** Fills the tmpfs but for `free` bytes (whole pages). */
  const fill = (free: number) => writeFileSync(join(mnt(), 'filler'), new Uint8Array(64 * 1024 - free));

  it('sample --draws-csv (640 KB of draws): exit 1, one line, no cut file', async () => {
    const r = await funnelweb(['sample', '--data', WEAK, ...SMALL, '--draws-csv', join(mnt(), 'd.csv')]);
    expectDiskFull(r, join(mnt(), 'd.csv'));
    expect(leftovers(mnt())).toEqual([]);
  });

  it('sample --summary on a nearly full disk: exit 1, an existing summary left as it was', async () => {
    writeFileSync(join(mnt(), 's.json'), '{"previous": "run"}\n');
    fill(8192);
    const r = await funnelweb(['sample', '--data', WEAK, ...SMALL, '--summary', join(mnt(), 's.json')]);
    expectDiskFull(r, join(mnt(), 's.json'));
    expect(readFileSync(join(mnt(), 's.json'), 'utf8')).toBe('{"previous": "run"}\n');
    expect(leftovers(mnt(), ['filler', 's.json'])).toEqual([]);
  });

  it('sample --summary --draws-csv --out r.nc: every output attempted; what fits is whole, the rest absent', async () => {
    const r = await funnelweb(['sample', '--data', WEAK, ...SMALL, '--summary', join(mnt(), 's.json'), '--draws-csv', join(mnt(), 'd.csv'), '--out', join(mnt(), 'r.nc')]);
    expect(r.code, r.stderr).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('funnelweb: error:'));
    // The draws CSV (640 KB) cannot fit; the .nc, written after it, is attempted all the same.
    expect(errors[0]).toBe(`funnelweb: error: cannot write ${join(mnt(), 'd.csv')}: no space left on the device: ENOSPC`);
    for (const e of errors.slice(1)) expect(e).toBe(`funnelweb: error: cannot write ${join(mnt(), 'r.nc')}: no space left on the device: ENOSPC`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(JSON.parse(readFileSync(join(mnt(), 's.json'), 'utf8')).sampler.chains).toBe(64);
    expect(existsSync(join(mnt(), 'r.nc'))).toBe(errors.length === 1);
    expect(leftovers(mnt(), ['s.json', 'r.nc'])).toEqual([]);
  });

  it('sample --out r.nc and --out r.zarr: exit 1, no file, no temporary', async () => {
    for (const name of ['r.nc', 'r.zarr']) {
      const r = await funnelweb(['sample', '--data', WEAK, ...SMALL, '--out', join(mnt(), name)]);
      expectDiskFull(r, join(mnt(), name));
      expect(leftovers(mnt())).toEqual([]);
    }
  });

  it('compare --out DIR: exit 1, no cut draws CSV in DIR', async () => {
    const out = join(mnt(), 'cmp');
    const r = await funnelweb(['compare', '--data', WEAK, '--param', 'centered', ...SMALL, '--out', out]);
    expectDiskFull(r, join(out, 'centered.draws.csv'));
    // The summary fitted and is whole; the draws did not and are absent.
    expect(leftovers(out, ['centered.summary.json'])).toEqual([]);
    if (existsSync(join(out, 'centered.summary.json'))) {
      expect(JSON.parse(readFileSync(join(out, 'centered.summary.json'), 'utf8')).sampler.chains).toBe(64);
    }
  });
});

/**
 * The text readers (data, draws CSV, CmdStan CSV) say plainly why a path cannot be read:
 * no such file, a directory, a device that never ends (/dev/zero), a file larger than one
 * JavaScript string, all as InputError (exit 2) before reading anything large.
 */
import { mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_TEXT_BYTES, readTextFile } from '../src/io/read_text.ts';
import { loadData } from '../src/io/data.ts';
import { readDrawsCsv } from '../src/io/draws_csv.ts';
import { readText } from '../src/io/cmdstan.ts';
import { readInferenceDataDraws } from '../src/io/inference_data_read.ts';
import { InputError } from '../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'fw-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readTextFile', () => {
  it('reads a file; names what is wrong otherwise', async () => {
    const ok = join(dir, 'ok.csv');
    writeFileSync(ok, 'group,y\na,1\n');
    expect(await readTextFile(ok)).toBe('group,y\na,1\n');
    await expect(readTextFile(join(dir, 'absent.csv'))).rejects.toThrow(/^no such file$/);
    await expect(readTextFile(dir)).rejects.toThrow(/is a directory/);
    await expect(readTextFile('/dev/zero')).rejects.toThrow(/is a device/);
    // A sparse file one byte past the limit: refused from its size, nothing read.
    const big = join(dir, 'big.csv');
    writeFileSync(big, '');
    truncateSync(big, MAX_TEXT_BYTES + 1);
    await expect(readTextFile(big)).rejects.toThrow(/larger than the 536,870,888/);
  });

  it('each reader turns it into an InputError naming the file', async () => {
    const big = join(dir, 'big.json');
    writeFileSync(big, '');
    truncateSync(big, MAX_TEXT_BYTES + 1);
    for (const p of [big, join(dir, 'absent.json')]) {
      const e = await loadData(p).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).message).toMatch(/^--data: cannot read '.*': (no such file|is [\d,]+ bytes)/);
    }
    // An InferenceData .nc that is a device: read by nothing, never until memory runs out.
    const nc = join(dir, 'zero.nc');
    symlinkSync('/dev/zero', nc);
    const e = await readInferenceDataDraws(nc).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toMatch(/zero\.nc: is a device or socket, not a file$/);
    for (const read of [readDrawsCsv, readText]) {
      const e = await read('/dev/zero').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).message).toBe('/dev/zero: is a device or socket, not a file');
    }
  });
});

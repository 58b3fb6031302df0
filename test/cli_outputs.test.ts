/**
 * Outputs are checked before any work, and the draws CSV header survives any label.
 *
 * - An output equal to an input (`sample --draws-csv` = `--data`, `--summary` = a JSON
 *   `--data`, `diagnose X.csv --json X.csv`, a symbolic link to the input either way, a
 *   compare `--out DIR` whose draws file is the data) exits 2 before sampling, and the
 *   input is unchanged byte for byte. The runs ask for 4,096 chains x 2,000 iterations on
 *   the default backend: a check that came after the sampling would not answer within the
 *   time allowed.
 * - An output that cannot be written exits 2 before any work: a directory on a read-only
 *   mount (root ignores permission bits, so `chmod 555` proves nothing as root: a
 *   `mount -t tmpfs -o ro` does, where mounting is possible; a `chmod 555` directory is
 *   tested when not root), a path under a file, `--summary` naming a directory,
 *   compare/reproduce `--out` naming a file, two outputs naming one file.
 * - Labels with a comma, a double quote and a line break round-trip: `sample --draws-csv`
 *   quotes them (RFC 4180), `funnelweb diagnose` and pandas read the same names back, and
 *   xarray reads them from the .nc and .zarr InferenceData as the group coordinate.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canMount, funnelweb, useTmpfs, type Run } from './cli_helpers.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDrawsCsv } from '../src/io/draws_csv.ts';
import { csvField } from '../src/io/draws_csv_write.ts';
import { InputError } from '../src/errors.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WEAK = join(ROOT, 'demo', 'data', 'weak.json');
/** Debian's interpreter (where apt puts pandas and xarray), unless FUNNELWEB_PYTHON names another. */
const PYTHON = process.env.FUNNELWEB_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');


/** A run far too big to finish within the tests' timeout: only a check before sampling answers in time. */
const HUGE = ['--chains', '4096', '--warmup', '1000', '--draws', '1000'];

/** Exit 2 with one error line naming `flag` and matching `message`, nothing on stdout. */
function expectRefused(r: Run, flag: string, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0].startsWith(`funnelweb: error: ${flag}: `), lines[0]).toBe(true);
  expect(lines[0]).toMatch(message);
}

let dir: string;
/** Group labels with a comma, a double quote and a line break. */
const LABELS = ['a,b', 'say "hi"', 'two\nlines', 'plain'];
const DATA_CSV_TEXT = 'group,y\n"a,b",1.2\n"a,b",0.3\n"say ""hi""",-0.5\n"say ""hi""",2.1\n"two\nlines",0.7\n"two\nlines",1.9\nplain,0.1\nplain,-0.4\n';
let dataCsv: string;
let dataJson: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'funnelweb-outputs-'));
  dataCsv = join(dir, 'data.csv');
  writeFileSync(dataCsv, DATA_CSV_TEXT);
  dataJson = join(dir, 'weak.json');
  writeFileSync(dataJson, readFileSync(WEAK));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('outputs over inputs: exit 2 before any work, the input unchanged', () => {
  it('sample --draws-csv equal to --data', async () => {
    const r = await funnelweb(['sample', '--data', dataCsv, '--sigma', '1', ...HUGE, '--draws-csv', dataCsv]);
    expectRefused(r, '--draws-csv', /is the --data input .*would overwrite the input/);
    expect(readFileSync(dataCsv, 'utf8')).toBe(DATA_CSV_TEXT);
  });

  it('sample --summary equal to a JSON --data (named another way)', async () => {
    const before = readFileSync(dataJson);
    const r = await funnelweb(['sample', '--data', dataJson, ...HUGE, '--summary', join(dir, '.', 'x', '..', 'weak.json')]);
    expectRefused(r, '--summary', /would overwrite the input/);
    expect(readFileSync(dataJson).equals(before)).toBe(true);
  });

  it('diagnose X.csv --json X.csv', async () => {
    const x = join(dir, 'draws_in.csv');
    const text = 'chain,draw,a\n1,1,0.5\n1,2,0.25\n2,1,0.1\n2,2,0.3\n';
    writeFileSync(x, text);
    const r = await funnelweb(['diagnose', x, '--json', x]);
    expectRefused(r, '--json', /is the input .*would overwrite the input/);
    expect(readFileSync(x, 'utf8')).toBe(text);
  });

  it('a symbolic link to the input, as the output or as the input', async () => {
    const link = join(dir, 'link.csv');
    symlinkSync(dataCsv, link);
    let r = await funnelweb(['sample', '--data', dataCsv, '--sigma', '1', ...HUGE, '--draws-csv', link]);
    expectRefused(r, '--draws-csv', /would overwrite the input/);
    r = await funnelweb(['sample', '--data', link, '--sigma', '1', ...HUGE, '--draws-csv', dataCsv]);
    expectRefused(r, '--draws-csv', /would overwrite the input/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(dataCsv, 'utf8')).toBe(DATA_CSV_TEXT);
  });

  it('compare --out DIR whose draws file is --data, and --json equal to a file of --out', async () => {
    const out = join(dir, 'cmp-in');
    mkdirSync(out);
    const data = join(out, 'centered.draws.csv');
    writeFileSync(data, DATA_CSV_TEXT);
    let r = await funnelweb(['compare', '--data', data, '--sigma', '1', ...HUGE, '--out', out]);
    expectRefused(r, '--out', /centered\.draws\.csv' is the --data input/);
    expect(readFileSync(data, 'utf8')).toBe(DATA_CSV_TEXT);
    r = await funnelweb(['compare', '--data', dataCsv, '--sigma', '1', ...HUGE, '--json', join(out, 'auto.summary.json'), '--out', out]);
    expectRefused(r, '--out', /--json and --out name the same file/);
  });

  it('sample: an output inside the .zarr store that --out replaces', async () => {
    mkdirSync(join(dir, 'prev.zarr'));
    const r = await funnelweb(['sample', '--data', WEAK, ...HUGE, '--out', join(dir, 'prev.zarr'), '--summary', join(dir, 'prev.zarr', 's.json')]);
    expectRefused(r, '--out', /prev\.zarr' and '.*prev\.zarr\/s\.json' \(--summary\) lie one inside the other/);
  });
});


describe('outputs that cannot be written: exit 2 before any work', () => {
  describe.skipIf(!canMount())('on a read-only mount (what stops root too)', () => {
    const ro = useTmpfs(() => dir, 'ro', 'ro,size=64k');

    it('sample --summary, --draws-csv, --out in a read-only directory; compare and reproduce --out under it', async () => {
      for (const [flag, name] of [
        ['--summary', 's.json'],
        ['--draws-csv', 'd.csv'],
        ['--out', 'r.nc'],
        ['--out', 'r.zarr'],
      ]) {
        const r = await funnelweb(['sample', '--data', WEAK, ...HUGE, flag, join(ro(), name)]);
        expectRefused(r, flag, /cannot write in directory '.*ro' \(read-only file system: EROFS\)/);
      }
      let r = await funnelweb(['compare', '--data', WEAK, ...HUGE, '--out', join(ro(), 'new', 'cmp')]);
      expectRefused(r, '--out', /read-only file system: EROFS/);
      r = await funnelweb(['reproduce', ...HUGE, '--out', join(ro(), 'study')]);
      expectRefused(r, '--out', /read-only file system: EROFS/);
      r = await funnelweb(['diagnose', 'test/golden/draws_main.csv', '--json', join(ro(), 'j.json')]);
      expectRefused(r, '--json', /read-only file system: EROFS/);
    });
  });

  it.skipIf(process.getuid?.() === 0)('a directory without write permission (not root)', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    try {
      const r = await funnelweb(['sample', '--data', WEAK, ...HUGE, '--summary', join(locked, 's.json')]);
      expectRefused(r, '--summary', /permission denied: EACCES/);
    } finally {
      chmodSync(locked, 0o755);
    }
  });

  it('a path under a file', async () => {
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'x');
    let r = await funnelweb(['sample', '--data', WEAK, ...HUGE, '--summary', join(file, 's.json')]);
    expectRefused(r, '--summary', /plain\.txt' is not a directory/);
    r = await funnelweb(['compare', '--data', WEAK, ...HUGE, '--out', join(file, 'sub', 'cmp')]);
    expectRefused(r, '--out', /plain\.txt' is not a directory/);
  });

  it('--summary naming an existing directory, --out r.nc a directory, --out r.zarr a file', async () => {
    const d = join(dir, 'taken.json');
    mkdirSync(d);
    let r = await funnelweb(['sample', '--data', WEAK, ...HUGE, '--summary', d]);
    expectRefused(r, '--summary', /taken\.json' is a directory, not a file/);
    mkdirSync(join(dir, 'taken.nc'));
    r = await funnelweb(['sample', '--data', WEAK, ...HUGE, '--out', join(dir, 'taken.nc')]);
    expect(r.code).toBe(2);
    writeFileSync(join(dir, 'taken.zarr'), 'x');
    r = await funnelweb(['sample', '--data', WEAK, ...HUGE, '--out', join(dir, 'taken.zarr')]);
    expectRefused(r, '--out', /taken\.zarr' is a file, not a directory/);
  });

  it('--out r.zarr naming a directory of other files: refused (the store replaces the directory whole), the files kept', async () => {
    const d = join(dir, 'project.zarr');
    mkdirSync(d);
    writeFileSync(join(d, 'notes.txt'), 'mine');
    const r = await funnelweb(['sample', '--data', WEAK, ...HUGE, '--out', d]);
    expectRefused(r, '--out', /project\.zarr' is a directory that holds other files than a Zarr store/);
    expect(readFileSync(join(d, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('compare and reproduce --out naming a file; a file of --out DIR that is a directory', async () => {
    const f = join(dir, 'not-a-dir');
    writeFileSync(f, 'x');
    let r = await funnelweb(['compare', '--data', WEAK, ...HUGE, '--out', f]);
    expectRefused(r, '--out', /not-a-dir' is a file, not a directory/);
    r = await funnelweb(['reproduce', ...HUGE, '--out', f]);
    expectRefused(r, '--out', /not-a-dir' is a file, not a directory/);
    const out = join(dir, 'cmp-blocked');
    mkdirSync(join(out, 'centered.summary.json'), { recursive: true });
    r = await funnelweb(['compare', '--data', WEAK, ...HUGE, '--out', out]);
    expectRefused(r, '--out', /centered\.summary\.json' is a directory, not a file/);
  });
});

describe('draws CSV header quoting', () => {
  it('quotes a name with a comma, a quote, CR or LF or outer spaces, and the reader takes it back', () => {
    expect(['mu', 'theta[a,b]', 'theta[say "hi"]', 'theta[two\nlines]', 'x\ry', ' pad'].map(csvField)).toEqual([
      'mu',
      '"theta[a,b]"',
      '"theta[say ""hi""]"',
      '"theta[two\nlines]"',
      '"x\ry"',
      '" pad"',
    ]);
    const names = ['theta[a,b]', 'theta[say "hi"]', 'theta[two\nlines]'];
    const text = `# comment\nchain,draw,${names.map(csvField).join(',')},lp__\n1,1,1,2,3,-1\n1,2,1.5,2.5,3.5,-2\n`;
    const t = parseDrawsCsv(text, 'q.csv');
    expect(Object.keys(t.params)).toEqual([...names, 'lp__']);
    expect(Array.from(t.params['theta[two\nlines]'])).toEqual([3, 3.5]);
    // Lines keep their numbers in the file after a header spanning two lines.
    expect(() => parseDrawsCsv(text + '2,1,1,x,3,4\n', 'q.csv')).toThrow(/q\.csv: line 6, column 'theta\[say "hi"\]': 'x' is not a number/);
    expect(() => parseDrawsCsv('chain,draw,"open\n1,1,2\n', 'u.csv')).toThrow(InputError);
  });

  it('labels with a comma, a quote and a line break round-trip through sample, diagnose, pandas and xarray', async () => {
    const csv = join(dir, 'labels.draws.csv');
    const nc = join(dir, 'labels.nc');
    const zarr = join(dir, 'labels.zarr');
    const common = ['sample', '--data', dataCsv, '--sigma', '1', '--backend', 'cpu', '--chains', '8', '--warmup', '50', '--draws', '40', '--quiet'];
    let r = await funnelweb([...common, '--draws-csv', csv, '--out', nc]);
    expect(r.code, r.stderr).toBe(0);
    r = await funnelweb([...common, '--out', zarr]);
    expect(r.code, r.stderr).toBe(0);
    const theta = LABELS.map((l) => `theta[${l}]`);
    const columns = ['chain', 'draw', 'mu', 'tau', 'log_tau', ...theta, 'lp__', 'energy__', 'divergent__', 'accept_stat__'];

    const json = join(dir, 'labels.summary.json');
    r = await funnelweb(['diagnose', csv, '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(json, 'utf8')).params)).toEqual(['mu', 'tau', 'log_tau', ...theta, 'lp__']);
    for (const idata of [nc, zarr]) {
      r = await funnelweb(['diagnose', idata, '--json', json]);
      expect(r.code, r.stderr).toBe(0);
      expect(Object.keys(JSON.parse(readFileSync(json, 'utf8')).params).filter((k) => k.startsWith('theta['))).toEqual(theta);
    }

    const py = `
import json, sys
import pandas as pd, xarray as xr
out = {"pandas": list(pd.read_csv(sys.argv[1]).columns)}
out["nc"] = [str(v) for v in xr.open_dataset(sys.argv[2], group="posterior").coords["group"].values]
out["zarr"] = [str(v) for v in xr.open_zarr(sys.argv[3], group="posterior", consolidated=True).coords["group"].values]
print(json.dumps(out))
`;
    let read: { pandas: string[]; nc: string[]; zarr: string[] };
    try {
      read = JSON.parse(execFileSync(PYTHON, ['-c', py, csv, nc, zarr], { encoding: 'utf8' }));
    } catch (err) {
      throw new Error(`${PYTHON} with pandas and xarray is needed (apt-get install python3-pandas python3-xarray python3-netcdf4 python3-zarr, or set FUNNELWEB_PYTHON): ${(err as Error).message}`);
    }
    expect(read.pandas).toEqual(columns);
    expect(read.nc).toEqual(LABELS);
    expect(read.zarr).toEqual(LABELS);
  });
});

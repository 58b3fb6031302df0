/**
 * The form: reads the modeller's choices into validated `RunRequest`s (raising the
 * library's `InputError`, with the field named, for anything malformed), keeps the
 * dependent controls in step (generator, custom data, one checkbox per group for the mixed
 * form), and mirrors every setting in the page's URL (`settings.ts`), so that a reload
 * keeps them and a link reproduces the experiment.
 */
import type { HierData } from '../src/model/data.ts';
import { isCenterednessRule } from '../src/adaptation/centeredness.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { InputError } from '../src/errors.ts';
import type { BackendKind } from '../src/sampler/sample.ts';
import { chooseData, describeData, isSeedName, RECOMMENDED_PARAMETERIZATION, type DataChoice, type DataSourceName } from './data_source.ts';
import { byId } from './dom.ts';
import type { GeneratorSettings } from './generate.ts';
import type { RunRequest } from './protocol.ts';
import { PARAM_KINDS, readUrlSettings, writeUrlSettings, type ParamKind, type Settings } from './settings.ts';

const input = (id: string) => byId<HTMLInputElement>(id);
const select = (id: string) => byId<HTMLSelectElement>(id);

function readInt(id: string, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = input(id).value.trim();
  const v = Number(text);
  if (text === '' || !Number.isInteger(v) || v < min || v > max) throw new InputError(field, `must be an integer in [${min}, ${max}], got '${text}'`);
  return v;
}

function readNumber(id: string, field: string): number {
  const text = input(id).value.trim();
  const v = Number(text);
  if (text === '' || !Number.isFinite(v)) throw new InputError(field, `must be a finite number, got '${text}'`);
  return v;
}

function readSigma(): number | undefined {
  const text = input('sigma').value.trim();
  if (text === '') return undefined;
  const v = Number(text);
  if (!Number.isFinite(v) || !(v > 0)) throw new InputError('sigma', `must be a finite number > 0, got '${text}'`);
  return v;
}

/** `n` or `lo-hi` observations per group. */
function readGroupSizes(): [number, number] {
  const text = input('gen-n').value.trim();
  const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(text);
  if (!m) throw new InputError('generator observations per group', `expected n or lo-hi (e.g. 1-1000), got '${text}'`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo) throw new InputError('generator observations per group', `the range ${lo}-${hi} is empty`);
  return [lo, hi];
}

export function readGenerator(): GeneratorSettings {
  const [nLo, nHi] = readGroupSizes();
  return {
    K: readInt('gen-k', 'generator K', 1),
    nLo,
    nHi,
    sigma: readNumber('gen-sigma', 'generator sigma'),
    mu: readNumber('gen-mu', 'generator mu'),
    tau: readNumber('gen-tau', 'generator tau'),
    seed: readInt('gen-seed', 'generator seed', 0, 2 ** 32 - 1),
  };
}

/** Name used in data error messages: the uploaded file's, else `pasted data`. */
let customSource = 'pasted data';

/** The last data choice and the inputs it was made from (generating or parsing is not free). */
let cached: { key: string; choice: DataChoice } | null = null;

/** The chosen data set, parsed and validated. */
export function readData(): DataChoice {
  const name = select('dataset').value as DataSourceName;
  const key = JSON.stringify([name, name === 'generated' ? readGenerator() : null, name === 'custom' ? [byId<HTMLTextAreaElement>('data-text').value, customSource, input('sigma').value] : null]);
  if (cached?.key === key) return cached.choice;
  const choice = chooseData(name, {
    generator: name === 'generated' ? readGenerator() : ({} as GeneratorSettings),
    text: byId<HTMLTextAreaElement>('data-text').value,
    textSource: customSource,
    sigma: name === 'custom' ? readSigma() : undefined,
  });
  cached = { key, choice };
  return choice;
}

/** Labels of the groups ticked as centered. */
function mixedGroups(): string[] {
  return Array.from(byId('mixed-groups').querySelectorAll<HTMLInputElement>('input:checked'), (c) => c.value);
}

/** The sampler's parameterization string for a kind (`mixed:2,6`, `partial:0,1,...`). */
export function parameterizationOf(kind: ParamKind): string {
  if (kind === 'mixed') {
    const groups = mixedGroups();
    if (groups.length === 0) throw new InputError('mixed', 'tick at least one centered group');
    return `mixed:${groups.join(',')}`;
  }
  if (kind === 'partial') {
    const list = input('partial').value.trim();
    if (list === '') throw new InputError('partial', 'give one centeredness in [0, 1] per group, e.g. 0,1,0.5');
    return `partial:${list}`;
  }
  return kind;
}

export function readBackend(): BackendKind {
  return select('backend').value as BackendKind;
}

/** The parameterizations ticked for Compare, in the form's order. */
export function compareKinds(): ParamKind[] {
  return Array.from(byId('compare-set').querySelectorAll<HTMLInputElement>('input:checked:not(:disabled)'), (c) => c.value as ParamKind);
}

/** Everything a run needs; the parameterization is checked against the data's groups here. */
export function readRequest(kind: ParamKind = select('param-kind').value as ParamKind): RunRequest {
  const { data, truth } = readData();
  const parameterization = parameterizationOf(kind);
  // A fixed parameterization is checked against the data's groups here; `auto` is learned in the run.
  if (!isCenterednessRule(parameterization)) parseParameterization(parameterization, data.labels, kind);
  return {
    data,
    truth,
    kind,
    parameterization,
    chains: readInt('chains', 'chains', 1, 65_536),
    warmup: readInt('warmup', 'warmup', 0),
    draws: readInt('draws', 'draws', 1),
    seed: readInt('seed', 'seed', 0),
    backend: readBackend(),
  };
}

/** One checkbox per group for the mixed form, keeping the ticks of labels that remain. */
function syncMixedGroups(data: HierData | null, ticked: readonly string[]): void {
  const box = byId('mixed-groups');
  if (!data) return;
  const tick = new Set(ticked);
  box.replaceChildren(
    ...data.labels.map((label) => {
      const l = document.createElement('label');
      const c = document.createElement('input');
      c.type = 'checkbox';
      c.value = label;
      c.checked = tick.has(label);
      l.append(c, ` ${label}`);
      return l;
    }),
  );
}

function setMixedFromParam(text: string): string[] {
  return text.startsWith('mixed:') ? text.slice(6).split(',') : [];
}

function syncVisibility(): void {
  const name = select('dataset').value;
  byId('generator').hidden = name !== 'generated';
  byId('custom-data').hidden = name !== 'custom';
  const kind = select('param-kind').value;
  const cmp = new Set(compareKinds());
  byId('mixed-box').hidden = kind !== 'mixed' && !cmp.has('mixed');
  byId('partial-box').hidden = kind !== 'partial' && !cmp.has('partial');
}

/** Shows the data set's description, or the reason it does not parse; returns the data when they parse. */
function describeChoice(): DataChoice | null {
  const note = byId('data-note');
  const name = select('dataset').value;
  try {
    const choice = readData();
    note.textContent = `${choice.note}. ${describeData(choice.data)}`;
    note.classList.remove('bad');
    return choice;
  } catch (err) {
    const empty = name === 'custom' && byId<HTMLTextAreaElement>('data-text').value.trim() === '';
    note.textContent = empty ? 'Paste data or choose a file.' : (err as Error).message;
    note.classList.toggle('bad', !empty);
    return null;
  }
}

/** Ids of the plain inputs mirrored in the URL, with their URL keys. */
const FIELDS: readonly (readonly [keyof Settings, string])[] = [
  ['data', 'dataset'],
  ['genK', 'gen-k'],
  ['genN', 'gen-n'],
  ['genSigma', 'gen-sigma'],
  ['genMu', 'gen-mu'],
  ['genTau', 'gen-tau'],
  ['genSeed', 'gen-seed'],
  ['sigma', 'sigma'],
  ['param', 'param-kind'],
  ['partial', 'partial'],
  ['chains', 'chains'],
  ['warmup', 'warmup'],
  ['draws', 'draws'],
  ['seed', 'seed'],
  ['backend', 'backend'],
];

/** The form's settings. Pasted data travel in the URL only while short (see settings.ts). */
export function currentSettings(): Settings {
  const s: Record<string, string> = {};
  for (const [key, id] of FIELDS) s[key] = (byId(id) as HTMLInputElement).value;
  return {
    ...(s as unknown as Settings),
    text: byId<HTMLTextAreaElement>('data-text').value,
    mixed: mixedGroups().join(','),
    compare: Array.from(byId('compare-set').querySelectorAll<HTMLInputElement>('input:checked'), (c) => c.value).join(','),
  };
}

function applySettings(s: Partial<Settings>): void {
  for (const [key, id] of FIELDS) {
    const v = s[key];
    if (v === undefined) continue;
    const e = byId(id) as HTMLInputElement | HTMLSelectElement;
    if (e instanceof HTMLSelectElement && !Array.from(e.options).some((o) => o.value === v)) continue;
    e.value = v;
  }
  if (s.text !== undefined) byId<HTMLTextAreaElement>('data-text').value = s.text;
  if (s.compare !== undefined) {
    const set = new Set(s.compare.split(','));
    byId("compare-set").querySelectorAll<HTMLInputElement>("input").forEach((c) => (c.checked = set.has(c.value)));
  }
}

/** Writes the settings to the URL (replacing the history entry: a reload keeps them). */
export function saveSettings(): void {
  writeUrlSettings(currentSettings());
}

/**
 * Wires the form: dependent controls, file upload, the URL. `onData` is called with each
 * newly valid data set (for the strip plot), `null` when the data do not parse.
 */
export function initControls(onData: (choice: DataChoice | null) => void): void {
  const url = readUrlSettings(location.search);
  applySettings(url);
  const refresh = (recommend: boolean) => {
    const name = select('dataset').value;
    if (recommend && isSeedName(name)) {
      const rec = RECOMMENDED_PARAMETERIZATION[name];
      select('param-kind').value = rec.split(':')[0];
      cached = null;
    }
    const choice = describeChoice();
    const ticks = recommend && isSeedName(name) ? setMixedFromParam(RECOMMENDED_PARAMETERIZATION[name]) : mixedGroups();
    syncMixedGroups(choice?.data ?? null, ticks);
    syncVisibility();
    saveSettings();
    onData(choice);
  };
  select('dataset').addEventListener('change', () => refresh(true));
  for (const id of ['gen-k', 'gen-n', 'gen-sigma', 'gen-mu', 'gen-tau', 'gen-seed', 'sigma']) input(id).addEventListener('change', () => refresh(false));
  byId<HTMLTextAreaElement>('data-text').addEventListener('input', () => {
    customSource = 'pasted data';
    refresh(false);
  });
  input('data-file').addEventListener('change', async () => {
    const file = input('data-file').files?.[0];
    if (!file) return;
    byId<HTMLTextAreaElement>('data-text').value = await file.text();
    customSource = file.name;
    refresh(false);
  });
  byId('controls').addEventListener('change', () => {
    syncVisibility();
    saveSettings();
  });
  // First paint: the URL's groups for the mixed form, else the study's choice.
  const first = describeChoice();
  const name = select('dataset').value;
  const ticks = url.mixed !== undefined ? url.mixed.split(',').filter(Boolean) : isSeedName(name) ? setMixedFromParam(RECOMMENDED_PARAMETERIZATION[name]) : [];
  if (url.param === undefined && isSeedName(name)) select('param-kind').value = RECOMMENDED_PARAMETERIZATION[name].split(':')[0];
  syncMixedGroups(first?.data ?? null, ticks);
  syncVisibility();
  saveSettings();
  onData(first);
}

export { PARAM_KINDS, type ParamKind };

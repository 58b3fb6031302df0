/**
 * The form: reads the modeller's choices into validated `RunRequest`s (raising the
 * library's `InputError`, with the field named, for anything malformed), keeps the
 * dependent controls in step (likelihood, generator, custom data, one checkbox per group for
 * the mixed form), and mirrors every setting in the page's URL (`settings.ts`), so that a
 * reload keeps them and a link reproduces the experiment.
 *
 * The likelihood choice lists `FAMILIES`; the generator's and the pasted data's inputs are
 * made from the chosen family's `columns` (one numeric input per column, starting at its
 * `example`) and, for the generator, its global parameters (`familyGlobals`: one input per
 * global for its true value on the natural scale, e.g. sigma), so a new family appears on
 * the page without an edit here. Pasted or uploaded data are read with the columns of the
 * family the loader reads (`loaderFamily`: sigma known or unknown both read as normal data),
 * and the choice then shows the family the data turned out to be (no sigma column and no
 * value for it: sigma unknown).
 *
 * Pasted data and the radon set take predictors (`predictors`, as the CLI's `--predictors`:
 * columns or `a:b` products, comma-separated), pasted data a column mapping (`columns`, as
 * `--columns`: `y=log_radon,group=county_idx`); the radon set starts with its two predictors.
 */
import type { HierData } from '../src/model/data.ts';
import { familyGlobals, type Family } from '../src/model/family.ts';
import { FAMILIES, familyOf } from '../src/model/families/index.ts';
import { isCenterednessRule } from '../src/adaptation/centeredness.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { InputError } from '../src/errors.ts';
import { DEFAULT_BETA_PRIOR } from '../src/model/priors.ts';
import type { BackendKind } from '../src/sampler/sample.ts';
import {
  chooseData,
  csvHeader,
  describeData,
  fixedLikelihood,
  isSeedName,
  likelihoodLabel,
  loaderFamily,
  RADON,
  RECOMMENDED_PARAMETERIZATION,
  replacements,
  takesPredictors,
  type DataChoice,
  type DataSourceName,
} from './data_source.ts';
import { byId } from './dom.ts';
import { columnStart, generatorFor, globalStart, type GeneratorSettings } from './generate.ts';
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

/** The chosen likelihood family. */
export function currentFamily(): Family {
  return familyOf(select('likelihood').value, 'likelihood');
}

/** The family the column inputs were made for (they are remade when the choice changes). */
let columnsFamily: Family | null = null;

/**
 * The generator's input of column or global `name` (a global by its natural-scale name:
 * `gen-sigma`, the same input as the normal family's sigma column), and the pasted data's
 * fallback input.
 */
const genColumnId = (name: string) => `gen-${name}`;
const fallbackId = (name: string) => `fallback-${name}`;

/** The columns pasted data are read with (`loaderFamily` of the chosen family). */
function dataColumns(): Family['columns'] {
  return loaderFamily(currentFamily()).columns;
}

/** Values for the pasted data's columns that the text may leave out, by column name (blank inputs left out). */
function readFallback(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of dataColumns()) {
    if (c.option === undefined) continue;
    const text = input(fallbackId(c.name)).value.trim();
    if (text === '') continue;
    const v = Number(text);
    if (!Number.isFinite(v)) throw new InputError(c.name, `must be a finite number, got '${text}'`);
    out[c.name] = v;
  }
  return out;
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
  const family = currentFamily();
  return {
    likelihood: family.id,
    K: readInt('gen-k', 'generator K', 1),
    nLo,
    nHi,
    columns: Object.fromEntries(family.columns.map((c) => [c.name, readNumber(genColumnId(c.name), `generator ${c.name}`)])),
    globals: Object.fromEntries(familyGlobals(family).map((g) => [g.constrained.name, readNumber(genColumnId(g.constrained.name), `generator ${g.constrained.name}`)])),
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
  const custom = name === 'custom' ? { text: byId<HTMLTextAreaElement>('data-text').value, likelihood: currentFamily().id, fallback: readFallback(), columns: input('columns').value } : null;
  const predictors = takesPredictors(name) ? input('predictors').value : undefined;
  const key = JSON.stringify([name, name === 'generated' ? readGenerator() : null, custom && [custom, customSource], predictors ?? null]);
  if (cached?.key === key) return cached.choice;
  const choice = chooseData(name, {
    generator: name === 'generated' ? readGenerator() : ({} as GeneratorSettings),
    text: custom?.text ?? '',
    textSource: customSource,
    likelihood: custom?.likelihood,
    fallback: custom?.fallback,
    predictors,
    columns: custom?.columns,
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
  byId('predictor-box').hidden = !takesPredictors(name);
  byId('columns-box').hidden = name !== 'custom';
  byId('fallback-columns').hidden = !dataColumns().some((c) => c.option !== undefined);
  const kind = select('param-kind').value;
  const cmp = new Set(compareKinds());
  byId('mixed-box').hidden = kind !== 'mixed' && !cmp.has('mixed');
  byId('partial-box').hidden = kind !== 'partial' && !cmp.has('partial');
}

/** A labelled numeric input for a column. */
function columnInput(id: string, label: string, value: string, help: string, placeholder = ''): HTMLLabelElement {
  const l = document.createElement('label');
  const e = document.createElement('input');
  e.id = id;
  e.type = 'text';
  e.inputMode = 'decimal';
  e.value = value;
  e.placeholder = placeholder;
  l.title = help;
  l.append(`${label} `, e);
  return l;
}

/** The current text of input `id`, if the page has it (an input being remade keeps its value). */
function valueOf(id: string): string | undefined {
  const e = document.getElementById(id);
  return e instanceof HTMLInputElement ? e.value : undefined;
}

/**
 * The model line: the hierarchy's priors, the family's globals' (`sigma ~ HalfNormal(5)`),
 * and the likelihood; with predictors, their coefficients' prior and the linear predictor
 * theta[g_i] + x_i·beta where theta[g_i] stood.
 */
function modelFormula(family: Family, predictors: readonly string[] = []): string {
  const b = DEFAULT_BETA_PRIOR;
  const beta = predictors.length ? `, beta_p ~ N(${b.loc}, ${b.scale}) for x = (${predictors.join(', ')})` : '';
  const lik = predictors.length ? `${family.formula}, with theta[g_i] + x_i·beta in place of theta[g_i]` : family.formula;
  return `mu ~ N(0, 5), tau ~ HalfNormal(5)${priorText(family)}${beta}, theta_k ~ N(mu, tau), ${lik}`;
}

/** The prior of a family global, in words for the model line (`sigma ~ HalfNormal(5)`). */
function priorText(family: Family): string {
  const kinds = { halfnormal: 'HalfNormal', halfcauchy: 'HalfCauchy', exponential: 'Exponential' } as const;
  return familyGlobals(family)
    .map((g) => {
      const p = g.prior.default;
      return `, ${g.constrained.name} ~ ${kinds[p.kind]}(${p.kind === 'exponential' ? `rate ${1 / p.scale}` : p.scale})`;
    })
    .join('');
}

/**
 * Makes the generator's inputs (one per column, one per global) and the pasted data's column
 * inputs (of `loaderFamily`) for the chosen family (when it is not the one they were made
 * for), from `values` where given, else the value an input of that id holds now (sigma
 * stays as it was between sigma known and unknown), else each one's starting value; shows
 * the family's formula. Returns whether the family changed.
 */
function syncFamily(values: { genColumns?: Record<string, string>; fallback?: Record<string, string> } = {}): boolean {
  const family = currentFamily();
  const data = loaderFamily(family);
  byId('family-formula').textContent = family.formula;
  byId('model-formula').textContent = modelFormula(family);
  if (family === columnsFamily) return false;
  columnsFamily = family;
  const genValue = (name: string, start: number | undefined) => values.genColumns?.[name] ?? valueOf(genColumnId(name)) ?? (start === undefined ? '' : String(start));
  byId('gen-columns').replaceChildren(
    ...family.columns.map((c) => columnInput(genColumnId(c.name), c.name, genValue(c.name, columnStart(c)), c.help)),
    ...familyGlobals(family).map((g) => columnInput(genColumnId(g.constrained.name), `true ${g.constrained.name}`, genValue(g.constrained.name, globalStart(g)), g.constrained.help)),
  );
  // Without a column's values a replacing family applies (normal data without sigma: sigma unknown); the input says so.
  const unknownWhenBlank = new Map(replacements(data).map((r) => [r.whenMissing, r.family]));
  byId('fallback-columns').replaceChildren(
    ...data.columns
      .filter((c) => c.option !== undefined)
      .map((c) => {
        const instead = unknownWhenBlank.get(c.name);
        const help = instead ? `${c.help}; blank: the ${instead.id} likelihood (${c.name} unknown, sampled)` : c.help;
        return columnInput(fallbackId(c.name), `${c.name} when the data give none`, values.fallback?.[c.name] ?? valueOf(fallbackId(c.name)) ?? '', help, instead ? `blank: ${c.name} unknown` : `e.g. ${columnStart(c)}`);
      }),
  );
  for (const name of [...family.columns.map((c) => c.name), ...familyGlobals(family).map((g) => g.constrained.name)]) {
    input(genColumnId(name)).addEventListener('change', () => onColumnChange());
  }
  for (const c of data.columns) if (c.option !== undefined) input(fallbackId(c.name)).addEventListener('change', () => onColumnChange());
  const optional = data.columns.filter((c) => c.option !== undefined || c.value !== undefined || unknownWhenBlank.has(c.name)).map((c) => c.name);
  byId<HTMLTextAreaElement>('data-text').placeholder = `${csvHeader(data)}\na,…\nb,…`;
  byId('custom-format').textContent = csvHeader(data) + (optional.length ? ` (${optional.join(', ')} optional)` : '');
  return true;
}

/**
 * Pasted or uploaded data decide between the families the loader reads alike (sigma known
 * or unknown): the likelihood choice is set to the family of the parsed data. Returns
 * whether it changed.
 */
function followDataFamily(choice: DataChoice | null): boolean {
  if (!choice || select('dataset').value !== 'custom') return false;
  const resolved = familyOf(choice.data.likelihood);
  if (resolved === currentFamily()) return false;
  select('likelihood').value = resolved.id;
  return true;
}

/** Set by `initControls`: what a change of a column input does. */
let onColumnChange: () => void = () => {};

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
const FIELDS: readonly (readonly [Exclude<keyof Settings, 'genColumns' | 'fallback'>, string])[] = [
  ['data', 'dataset'],
  ['likelihood', 'likelihood'],
  ['genK', 'gen-k'],
  ['genN', 'gen-n'],
  ['genMu', 'gen-mu'],
  ['genTau', 'gen-tau'],
  ['genSeed', 'gen-seed'],
  ['param', 'param-kind'],
  ['partial', 'partial'],
  ['chains', 'chains'],
  ['warmup', 'warmup'],
  ['draws', 'draws'],
  ['seed', 'seed'],
  ['backend', 'backend'],
  ['predictors', 'predictors'],
  ['columns', 'columns'],
];

/** The form's settings. Pasted data travel in the URL only while short (see settings.ts). */
export function currentSettings(): Settings {
  const s: Record<string, string> = {};
  for (const [key, id] of FIELDS) s[key] = (byId(id) as HTMLInputElement).value;
  const family = currentFamily();
  return {
    ...(s as unknown as Omit<Settings, 'genColumns' | 'fallback' | 'text' | 'mixed' | 'compare'>),
    genColumns: Object.fromEntries([...family.columns.map((c) => c.name), ...familyGlobals(family).map((g) => g.constrained.name)].map((name) => [name, input(genColumnId(name)).value])),
    fallback: Object.fromEntries(dataColumns().filter((c) => c.option !== undefined).map((c) => [c.name, input(fallbackId(c.name)).value])),
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

/** A bundled data set fixes the likelihood (the choice shows it, disabled); the others take the form's. */
function syncLikelihoodChoice(): void {
  const fixed = fixedLikelihood(select('dataset').value as DataSourceName);
  const lik = select('likelihood');
  if (fixed !== undefined) lik.value = fixed;
  lik.disabled = fixed !== undefined;
}

/**
 * Wires the form: dependent controls, file upload, the URL. `onData` is called with each
 * newly valid data set (for the strip plot), `null` when the data do not parse.
 */
export function initControls(onData: (choice: DataChoice | null) => void): void {
  select('likelihood').replaceChildren(...FAMILIES.map((f) => new Option(likelihoodLabel(f), f.id)));
  const url = readUrlSettings(location.search);
  applySettings(url);
  // The radon set starts with its own predictors (a link that has them, even blank, keeps its own).
  if (select('dataset').value === 'radon' && url.predictors === undefined) input('predictors').value = RADON.predictors;
  let lastDataset = select('dataset').value;
  syncLikelihoodChoice();
  syncFamily(url);
  const refresh = (recommend: boolean) => {
    const name = select('dataset').value;
    // Another data set: the radon set's own predictors when it is chosen; none where it is left.
    if (name !== lastDataset) {
      if (name === 'radon') input('predictors').value = RADON.predictors;
      else if (lastDataset === 'radon') input('predictors').value = '';
      lastDataset = name;
    }
    if (recommend && isSeedName(name)) {
      const rec = RECOMMENDED_PARAMETERIZATION[name];
      select('param-kind').value = rec.split(':')[0];
      cached = null;
    }
    syncLikelihoodChoice();
    const before = columnsFamily;
    syncFamily();
    let choice = describeChoice();
    // Pasted data without sigma are sigma-unknown data: the choice follows, and the inputs with it.
    if (followDataFamily(choice)) {
      syncFamily();
      choice = describeChoice();
    }
    // Another family whose theta is on another scale: the generator's truth on its scale (a logit or a log rate there).
    if (before && columnsFamily && before !== columnsFamily) {
      const [was, now] = [generatorFor(before), generatorFor(columnsFamily)];
      if (was.mu !== now.mu || was.tau !== now.tau) {
        input('gen-mu').value = String(now.mu);
        input('gen-tau').value = String(now.tau);
        choice = describeChoice();
      }
    }
    const ticks = recommend && isSeedName(name) ? setMixedFromParam(RECOMMENDED_PARAMETERIZATION[name]) : mixedGroups();
    syncMixedGroups(choice?.data ?? null, ticks);
    syncVisibility();
    showModel(choice);
    saveSettings();
    onData(choice);
  };
  onColumnChange = () => refresh(false);
  select('dataset').addEventListener('change', () => refresh(true));
  select('likelihood').addEventListener('change', () => refresh(false));
  for (const id of ['gen-k', 'gen-n', 'gen-mu', 'gen-tau', 'gen-seed', 'predictors', 'columns']) input(id).addEventListener('change', () => refresh(false));
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
  let first = describeChoice();
  if (followDataFamily(first)) {
    syncFamily(url);
    first = describeChoice();
  }
  const name = select('dataset').value;
  const ticks = url.mixed !== undefined ? url.mixed.split(',').filter(Boolean) : isSeedName(name) ? setMixedFromParam(RECOMMENDED_PARAMETERIZATION[name]) : [];
  if (url.param === undefined && isSeedName(name)) select('param-kind').value = RECOMMENDED_PARAMETERIZATION[name].split(':')[0];
  syncMixedGroups(first?.data ?? null, ticks);
  syncVisibility();
  showModel(first);
  saveSettings();
  onData(first);
}

/** The model line of the chosen family, with the data's predictors where they parse and have any. */
function showModel(choice: DataChoice | null): void {
  byId('model-formula').textContent = modelFormula(currentFamily(), choice?.data.predictors?.names);
}

export { PARAM_KINDS, type ParamKind };

/**
 * The form: reads the modeller's choices into a validated `RunRequest`, raising the
 * library's `InputError` (with the field named) for anything malformed.
 */
import type { HierData } from '../src/model/data.ts';
import { parseParameterization } from '../src/model/parameterization.ts';
import { InputError } from '../src/model/priors.ts';
import type { BackendKind } from '../src/sampler/sample.ts';
import { describeData, isSeedName, parseDataText, RECOMMENDED_PARAMETERIZATION, SEED_SETS, seedData, type SeedName } from './data_source.ts';
import { byId } from './dom.ts';
import type { RunRequest } from './protocol.ts';

const input = (id: string) => byId<HTMLInputElement>(id);
const select = (id: string) => byId<HTMLSelectElement>(id);

function readInt(id: string, field: string, min: number): number {
  const text = input(id).value.trim();
  const v = Number(text);
  if (text === '' || !Number.isInteger(v) || v < min) throw new InputError(field, `must be an integer >= ${min}, got '${text}'`);
  return v;
}

function readSigma(): number | undefined {
  const text = input('sigma').value.trim();
  if (text === '') return undefined;
  const v = Number(text);
  if (!Number.isFinite(v) || !(v > 0)) throw new InputError('sigma', `must be a finite number > 0, got '${text}'`);
  return v;
}

/** Name used in data error messages: the uploaded file's, else `pasted data`. */
let customSource = 'pasted data';

/** The chosen data set, parsed and validated. */
export function readData(): HierData {
  const name = select('dataset').value;
  if (isSeedName(name)) return seedData(name);
  return parseDataText(byId<HTMLTextAreaElement>('data-text').value, customSource, readSigma());
}

/** The parameterization string the sampler takes (`centered`, `mixed:2,6`, ...). */
export function readParameterization(): string {
  const kind = select('param-kind').value;
  if (kind === 'mixed' || kind === 'partial') {
    const list = input('param-groups').value.trim();
    if (list === '') throw new InputError('parameterization', kind === 'mixed' ? 'list the centered groups, e.g. 2,6' : 'give one centeredness in [0, 1] per group, e.g. 0,1,0.5');
    return `${kind}:${list}`;
  }
  return kind;
}

export function readBackend(): BackendKind {
  return select('backend').value as BackendKind;
}

/** Everything a run needs; the parameterization is checked against the data's groups here. */
export function readRequest(parameterization = readParameterization()): RunRequest {
  const data = readData();
  parseParameterization(parameterization, data.labels, 'parameterization');
  return {
    data,
    parameterization,
    chains: readInt('chains', 'chains', 1),
    warmup: readInt('warmup', 'warmup', 0),
    draws: readInt('draws', 'draws', 1),
    seed: readInt('seed', 'seed', 0),
    backend: readBackend(),
  };
}

/** Sets the parameterization controls to `text` (`centered`, `mixed:2,6`, ...). */
function setParameterization(text: string): void {
  const [kind, list = ''] = text.split(':');
  select('param-kind').value = kind;
  input('param-groups').value = list;
  syncParamControls();
}

function syncParamControls(): void {
  const kind = select('param-kind').value;
  byId('param-groups-label').hidden = kind !== 'mixed' && kind !== 'partial';
  byId('param-groups-caption').textContent = kind === 'mixed' ? 'Centered groups (labels or 0-based indices)' : 'Centeredness of each group, in [0, 1]';
}

/** Shows the data set's description, or the reason it does not parse. */
function describeChoice(): void {
  const note = byId('data-note');
  const name = select('dataset').value;
  byId('custom-data').hidden = isSeedName(name);
  try {
    const data = readData();
    note.textContent = (isSeedName(name) ? SEED_SETS[name].note + '. ' : '') + describeData(data);
    note.classList.remove('bad');
  } catch (err) {
    const empty = !isSeedName(name) && byId<HTMLTextAreaElement>('data-text').value.trim() === '';
    note.textContent = empty ? 'Paste data or choose a file.' : (err as Error).message;
    note.classList.toggle('bad', !empty);
  }
}

/** Wires the form's dependent controls: custom-data inputs, parameterization hints, file upload. */
export function initControls(): void {
  select('dataset').addEventListener('change', () => {
    const name = select('dataset').value;
    if (isSeedName(name)) setParameterization(RECOMMENDED_PARAMETERIZATION[name as SeedName]);
    describeChoice();
  });
  select('param-kind').addEventListener('change', syncParamControls);
  byId<HTMLTextAreaElement>('data-text').addEventListener('input', () => {
    customSource = 'pasted data';
    describeChoice();
  });
  input('sigma').addEventListener('input', describeChoice);
  input('data-file').addEventListener('change', async () => {
    const file = input('data-file').files?.[0];
    if (!file) return;
    byId<HTMLTextAreaElement>('data-text').value = await file.text();
    customSource = file.name;
    describeChoice();
  });
  setParameterization(RECOMMENDED_PARAMETERIZATION[select('dataset').value as SeedName] ?? 'noncentered');
  describeChoice();
}

"""Reads a FunnelWeb InferenceData file (.nc or .zarr) with xarray, as ArviZ does, and
checks it against the draws CSV of the same run. Used by test/inference_data.test.ts.

    python3 test/inference_data_check.py RUN.nc|RUN.zarr DRAWS.csv DATA.json

Prints one JSON object (what was read and how many values were compared); exits 1 with
the failures on stderr when anything disagrees.

Data without a `sigma` key are of the normal likelihood with sigma unknown: the posterior
then has sigma and log_sigma (compared with the CSV's columns), constant_data has no sigma,
and y_rep is standardized by each draw's sigma.
"""
import csv
import json
import math
import sys

import numpy as np
import xarray as xr

path, csv_path, data_path = sys.argv[1:4]
is_zarr = path.endswith('.zarr')
failures = []


def fail(msg):
    failures.append(msg)


def open_group(group, engine=None):
    if is_zarr:
        return xr.open_zarr(path, group=group, consolidated=True).load()
    return xr.open_dataset(path, group=group, engine=engine).load()


engines = [None] if is_zarr else ['netcdf4', 'h5netcdf']
report = {'engines': [e or 'zarr' for e in engines], 'groups': {}, 'compared': 0}

with open(csv_path) as f:
    rows = list(csv.DictReader(f))
with open(data_path) as f:
    data = json.load(f)

for engine in engines:
    post = open_group('posterior', engine)
    stats = open_group('sample_stats', engine)
    obs = open_group('observed_data', engine)
    const = open_group('constant_data', engine)
    pp = open_group('posterior_predictive', engine)
    warm = open_group('warmup_sample_stats', engine)
    for name, ds in [('posterior', post), ('sample_stats', stats), ('observed_data', obs),
                     ('constant_data', const), ('posterior_predictive', pp), ('warmup_sample_stats', warm)]:
        report['groups'][name] = {
            'dims': {k: int(v) for k, v in ds.sizes.items()},
            'vars': sorted(ds.data_vars),
            'coords': sorted(ds.coords),
            'attrs': {k: (v.item() if hasattr(v, 'item') else v) for k, v in ds.attrs.items()},
        }
        for a in ['created_at', 'inference_library', 'inference_library_version']:
            if a not in ds.attrs:
                fail(f'{name}: no attribute {a}')

    chains = int(post.sizes['chain'])
    draws = int(post.sizes['draw'])
    labels = [str(x) for x in post['group'].values]
    if list(post['mu'].dims) != ['chain', 'draw']:
        fail(f'mu dims {post["mu"].dims}')
    if list(post['theta'].dims) != ['chain', 'draw', 'group']:
        fail(f'theta dims {post["theta"].dims}')
    if list(post['chain'].values) != list(range(chains)) or list(post['draw'].values) != list(range(draws)):
        fail('chain/draw coordinates are not 0..n-1')
    if len(rows) != chains * draws:
        fail(f'{len(rows)} CSV rows for {chains} x {draws}')
    if stats['diverging'].dtype != bool:
        fail(f'diverging is {stats["diverging"].dtype}, not bool')

    # sigma unknown (no sigma in the data): a parameter, reported as sigma and log_sigma.
    sigma_known = 'sigma' in data
    if not sigma_known:
        for v in ['sigma', 'log_sigma']:
            if v not in post or list(post[v].dims) != ['chain', 'draw']:
                fail(f'posterior has no {v} (chain, draw)')
        if post.attrs.get('likelihood') != 'normal_sigma':
            fail(f'likelihood attribute {post.attrs.get("likelihood")!r}, not normal_sigma')

    c = np.array([float(x) for x in post.attrs['centeredness'].split(',')])
    max_z_err = 0.0
    for r in rows:
        ci, di = int(r['chain']) - 1, int(r['draw']) - 1
        pairs = [
            (post['mu'].values[ci, di], r['mu'], 'mu'),
            (post['tau'].values[ci, di], r['tau'], 'tau'),
            (stats['lp'].values[ci, di], r['lp__'], 'lp'),
            (stats['energy'].values[ci, di], r['energy__'], 'energy'),
            (stats['acceptance_rate'].values[ci, di], r['accept_stat__'], 'acceptance_rate'),
            (float(stats['diverging'].values[ci, di]), r['divergent__'], 'diverging'),
        ]
        if not sigma_known:
            pairs += [(post['sigma'].values[ci, di], r['sigma'], 'sigma'), (post['log_sigma'].values[ci, di], r['log_sigma'], 'log_sigma')]
        for k, lab in enumerate(labels):
            pairs.append((post['theta'].values[ci, di, k], r[f'theta[{lab}]'], f'theta[{lab}]'))
        for got, want, what in pairs:
            report['compared'] += 1
            w = float(want)
            if not (float(got) == w or (math.isnan(w) and math.isnan(float(got)))):
                fail(f'{what} chain {ci} draw {di}: file {float(got)!r} vs csv {w!r}')
        mu, tau = float(r['mu']), float(r['tau'])
        for k, lab in enumerate(labels):
            theta = float(r[f'theta[{lab}]'])
            z_expected = c[k] * mu + tau ** (c[k] - 1) * (theta - mu)
            z = float(post['z'].values[ci, di, k])
            max_z_err = max(max_z_err, abs(z - z_expected) / max(1.0, abs(z)))
    report['max_z_rel_err'] = max_z_err
    if max_z_err > 1e-4:
        fail(f'z disagrees with c mu + tau^(c-1) (theta - mu): {max_z_err}')

    # Observed data and the group of each observation.
    y = np.asarray(data['y'], dtype=float)
    idx = np.asarray(data['idx'], dtype=int)
    if not np.array_equal(obs['y'].values, y):
        fail('observed_data.y differs from the data file')
    if [str(x) for x in obs['obs_group'].values] != [labels[i] for i in idx]:
        fail('observed_data.obs_group is not the group label of each observation')
    if sigma_known:
        sigma = np.broadcast_to(np.asarray(data['sigma'], dtype=float), y.shape)
        if not np.array_equal(const['sigma'].values, sigma):
            fail('constant_data.sigma differs')
        report['compared'] += 2 * len(y)
    else:
        if 'sigma' in const:
            fail('constant_data has sigma, but sigma is a parameter')
        report['compared'] += len(y)

    # Posterior predictive: y_rep centred on theta of its group, bounded chains.
    ppc = int(pp.sizes['chain'])
    if int(pp.attrs['retained_chains']) != ppc:
        fail('posterior_predictive retained_chains attribute')
    if ppc * draws * len(y) > int(pp.attrs['max_values']):
        fail('posterior_predictive exceeds its bound')
    theta = post['theta'].values[:ppc]
    # Each replicate's sd: the data's sigma, or the draw's where it is a parameter.
    sd = sigma if sigma_known else post['sigma'].values[:ppc].astype(float)[:, :, None]
    resid = (pp['y_rep'].values - theta[:, :, idx]) / sd
    report['y_rep_resid_mean'] = float(resid.mean())
    report['y_rep_resid_sd'] = float(resid.std())
    if abs(resid.mean()) > 5 / math.sqrt(resid.size) or abs(resid.std() - 1) > 0.05:
        fail(f'y_rep residuals not standard normal: mean {resid.mean()}, sd {resid.std()}')

    # Divergences: the positions where they diverged, listed per (chain, draw).
    n_div = int(stats.attrs['n_divergences'])
    flagged = sorted(zip(*np.nonzero(stats['diverging'].values)))
    report['n_divergences'] = n_div
    if n_div != len(flagged):
        fail(f'n_divergences {n_div} vs {len(flagged)} flagged draws')
    if n_div > 0:
        listed = sorted(zip(stats['divergence_chain'].values.tolist(), stats['divergence_draw'].values.tolist()))
        if listed != [(int(a), int(b)) for a, b in flagged]:
            fail('divergence_chain/divergence_draw do not match diverging')
        if list(stats['divergence_theta'].dims) != ['divergence', 'group']:
            fail('divergence_theta dims')
        if not sigma_known and list(stats['divergence_sigma'].dims) != ['divergence']:
            fail('divergence_sigma dims')

    wn = int(warm.sizes['draw'])
    if wn != int(post.attrs['tuning_steps']):
        fail(f'warmup_sample_stats has {wn} iterations, tuning_steps {post.attrs["tuning_steps"]}')

if failures:
    sys.stderr.write('\n'.join(failures[:50]) + '\n')
print(json.dumps(report))
sys.exit(1 if failures else 0)

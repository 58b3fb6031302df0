"""InferenceData files written by xarray (netCDF-C and zarr-python, not FunnelWeb) from
the CmdStan golden case `cmdstan_warmup`, for the golden tests of `funnelweb diagnose`
on .nc and .zarr input (test/diagnostics_golden.test.ts compares its numbers with R's,
in posterior_goldens.json).

Run from the repository root after make_goldens.R:

    /usr/bin/python3 test/golden/make_inference_data_goldens.py

It parses the four CSVs itself (rows after "# Adaptation terminated"), and writes
test/golden/cmdstan_warmup.nc (netcdf4 engine, zlib-compressed variables) and
test/golden/cmdstan_warmup.zarr (zarr-python's default Blosc compressor, consolidated),
with groups posterior (mu, tau, theta over a `school` dimension with coordinates 1..8)
and sample_stats (lp, energy, diverging, acceptance_rate), as ArviZ's from_cmdstan
names them.
"""
import shutil

import numpy as np
import xarray as xr

chains = []
for i in range(1, 5):
    with open(f'test/golden/cmdstan/cmdstan_warmup_{i}.csv') as f:
        lines = f.read().splitlines()
    header = next(l for l in lines if not l.startswith('#')).split(',')
    marker = next(j for j, l in enumerate(lines) if l.startswith('# Adaptation terminated'))
    rows = [list(map(float, l.split(','))) for l in lines[marker:] if l and not l.startswith('#')]
    chains.append(np.array(rows))
draws = np.stack(chains)  # chain x draw x column
col = {h: draws[:, :, j] for j, h in enumerate(header)}
C, D = draws.shape[:2]
coords = {'chain': np.arange(C), 'draw': np.arange(D)}
theta = np.stack([col[f'theta.{k}'] for k in range(1, 9)], axis=-1)
attrs = {'created_at': '2026-11-20T09:14:03.000000+00:00', 'inference_library': 'cmdstan',
         'inference_library_version': '2.33.1'}
posterior = xr.Dataset(
    {'mu': (('chain', 'draw'), col['mu']), 'tau': (('chain', 'draw'), col['tau']),
     'theta': (('chain', 'draw', 'school'), theta)},
    coords={**coords, 'school': np.arange(1, 9)}, attrs=attrs)
sample_stats = xr.Dataset(
    {'lp': (('chain', 'draw'), col['lp__']), 'energy': (('chain', 'draw'), col['energy__']),
     'diverging': (('chain', 'draw'), col['divergent__'] != 0),
     'acceptance_rate': (('chain', 'draw'), col['accept_stat__'])},
    coords=coords, attrs=attrs)

nc = 'test/golden/cmdstan_warmup.nc'
zarr_path = 'test/golden/cmdstan_warmup.zarr'
shutil.rmtree(zarr_path, ignore_errors=True)
for i, (name, ds) in enumerate([('posterior', posterior), ('sample_stats', sample_stats)]):
    enc = {v: {'zlib': True, 'complevel': 4} for v in ds.data_vars}
    ds.to_netcdf(nc, group=name, mode='w' if i == 0 else 'a', engine='netcdf4', encoding=enc)
    ds.to_zarr(zarr_path, group=name, mode='w' if i == 0 else 'a', consolidated=True)
print('wrote', nc, zarr_path)

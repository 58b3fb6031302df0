# Stan (rstan) NUTS on the posteriordb models with predictors, for test/bench/stan_predictors.ts.
#   Rscript run_stan_predictors.R JOBS.json OUTDIR
# JOBS.json: {"models": {"radon": "/path/radon_predictors.stan", ...}, "cache": true,
#             "chains": 2, "warmup": 1000, "draws": 10000, "seed": 1,
#             "jobs": [{"name": ..., "model": "radon", "adapt_delta": 0.8, "pars": ["mu", ...],
#                       "arrays": ["g", "y"], "ints": ["g"], "data": {N, P, X, y, ...}}]}
# Compiles each model once (compile times reported apart; with "cache": true the compiled
# model is kept next to the .stan file, rstan's auto_write, and reused while the code is
# unchanged), then, as run_stan.R does, reports for each job Stan's own elapsed time (warmup +
# sampling of the slowest chain; the chains run in parallel on `chains` cores) and the wall
# time of the sampling() call, and writes the draws of `pars` (chain, draw, ..., divergent__)
# to OUTDIR/NAME.csv; one JSON line per event on stdout. ESS is computed by the caller with
# FunnelWeb's diagnostics, so both samplers are judged by one estimator.
suppressPackageStartupMessages({ library(rstan); library(jsonlite) })
t_process <- proc.time()[["elapsed"]]
args <- commandArgs(trailingOnly = TRUE)
spec <- fromJSON(args[[1]], simplifyVector = TRUE, simplifyDataFrame = FALSE)
outdir <- args[[2]]
# Debian's r-cran-bh is a stub over the system Boost (/usr/include/boost): see run_stan.R.
boost <- rstan_options("boost_lib")
if (!file.exists(boost) && file.exists("/usr/include/boost/version.hpp")) {
  boost <- file.path(tempdir(), "boost_include")
  dir.create(boost, showWarnings = FALSE)
  file.symlink("/usr/include/boost", file.path(boost, "boost"))
}
models <- list()
for (name in names(spec$models)) {
  t0 <- proc.time()[["elapsed"]]
  models[[name]] <- stan_model(file = spec$models[[name]], model_name = paste0("funnelweb_", name),
                               auto_write = isTRUE(spec$cache), boost_lib = boost)
  cat(toJSON(list(event = "compiled", model = name, compile_s = proc.time()[["elapsed"]] - t0, stan = stan_version(),
                  rstan = as.character(packageVersion("rstan")), r = R.version$version.string),
             auto_unbox = TRUE), "\n", sep = "")
}
for (job in spec$jobs) {
  d <- job$data
  for (k in job$ints) d[[k]] <- as.integer(d[[k]])
  for (k in job$arrays) d[[k]] <- as.array(d[[k]])
  if (!is.null(d$X)) d$X <- matrix(unlist(d$X), nrow = d$N, ncol = d$P, byrow = TRUE)
  t0 <- proc.time()[["elapsed"]]
  fit <- sampling(models[[job$model]], data = d, chains = spec$chains, cores = spec$chains,
                  iter = spec$warmup + spec$draws, warmup = spec$warmup, seed = spec$seed, refresh = 0,
                  control = list(adapt_delta = job$adapt_delta), pars = job$pars)
  sampling_s <- proc.time()[["elapsed"]] - t0
  arr <- as.array(fit)                      # iterations x chains x parameters
  sp <- get_sampler_params(fit, inc_warmup = FALSE)
  rows <- list()
  for (ch in seq_len(dim(arr)[2])) {
    m <- arr[, ch, , drop = TRUE]
    m <- m[, colnames(m) != "lp__", drop = FALSE]
    rows[[ch]] <- data.frame(chain = ch, draw = seq_len(nrow(m)), m, divergent__ = sp[[ch]][, "divergent__"], check.names = FALSE)
  }
  csv <- file.path(outdir, paste0(job$name, ".csv"))
  write.csv(do.call(rbind, rows), csv, row.names = FALSE)
  el <- get_elapsed_time(fit)
  step <- sapply(sp, function(s) mean(s[, "stepsize__"]))
  leap <- mean(unlist(lapply(sp, function(s) s[, "n_leapfrog__"])))
  cat(toJSON(list(event = "fit", name = job$name, sampling_s = sampling_s, csv = csv,
                  elapsed_s = max(el[, "warmup"] + el[, "sample"]),
                  chain_warmup_s = unname(el[, "warmup"]), chain_sample_s = unname(el[, "sample"]),
                  divergences = sum(sapply(sp, function(s) sum(s[, "divergent__"]))), step_size = mean(step),
                  mean_leapfrog = leap), auto_unbox = TRUE, digits = NA), "\n", sep = "")
}
cat(toJSON(list(event = "done", process_s = proc.time()[["elapsed"]] - t_process), auto_unbox = TRUE), "\n", sep = "")

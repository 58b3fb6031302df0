# Stan (rstan) NUTS on FunnelWeb's benchmark cases, for test/bench/stan.ts.
#   Rscript run_stan.R JOBS.json OUTDIR
# JOBS.json: {"model": "hier.stan", "chains": 2, "warmup": 1000, "draws": 10000, "seed": 1,
#             "jobs": [{"name": ..., "adapt_delta": 0.95, "data": {K, J, g, ybar, se, c, ...}}]}
# Compiles the model once (compile time reported apart; with "cache": true the compiled
# model is kept next to the .stan file, rstan's auto_write, and reused while the code is
# unchanged), then for each job reports Stan's own elapsed time (warmup + sampling, the
# slowest of the chains, which run in parallel on `chains` cores) and the wall time of the
# sampling() call (which adds R's start of the worker processes), and writes the draws
# (chain, draw, mu, tau, theta[k], divergent__) to OUTDIR/NAME.csv; one JSON line per job
# on stdout. ESS is computed by the caller with FunnelWeb's
# diagnostics (equal to R's posterior), so both samplers are judged by one estimator.
suppressPackageStartupMessages({ library(rstan); library(jsonlite) })
t_process <- proc.time()[["elapsed"]]
args <- commandArgs(trailingOnly = TRUE)
spec <- fromJSON(args[[1]], simplifyVector = TRUE, simplifyDataFrame = FALSE)
outdir <- args[[2]]
t0 <- proc.time()[["elapsed"]]
# Debian's r-cran-bh is a stub over the system Boost (/usr/include/boost): point rstan at a
# directory holding only a link to it (adding -I/usr/include itself would break g++'s
# #include_next).
boost <- rstan_options("boost_lib")
if (!file.exists(boost) && file.exists("/usr/include/boost/version.hpp")) {
  boost <- file.path(tempdir(), "boost_include")
  dir.create(boost, showWarnings = FALSE)
  file.symlink("/usr/include/boost", file.path(boost, "boost"))
}
sm <- stan_model(file = spec$model, model_name = "funnelweb_hier", auto_write = isTRUE(spec$cache), boost_lib = boost)
compile_s <- proc.time()[["elapsed"]] - t0
cat(toJSON(list(event = "compiled", compile_s = compile_s, stan = stan_version()), auto_unbox = TRUE), "\n", sep = "")
for (job in spec$jobs) {
  d <- job$data
  d$g <- as.array(as.integer(d$g)); d$ybar <- as.array(d$ybar); d$se <- as.array(d$se); d$c <- as.array(d$c)
  t0 <- proc.time()[["elapsed"]]
  fit <- sampling(sm, data = d, chains = spec$chains, cores = spec$chains, iter = spec$warmup + spec$draws,
                  warmup = spec$warmup, seed = spec$seed, refresh = 0,
                  control = list(adapt_delta = job$adapt_delta), pars = c("mu", "tau", "theta"))
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

# Golden values for FunnelWeb's diagnostics (src/diagnostics), from R's `posterior`.
#
# Run from the repository root:
#
#   Rscript test/golden/make_goldens.R
#
# It writes the input draws (test/golden/draws_*.csv: columns chain, draw, one per
# parameter, values rounded to 8 significant digits), reads them back, and writes every
# estimate to test/golden/posterior_goldens.json (NA as null). The tests
# (test/diagnostics_golden.test.ts) read these files and need no R.
#
# Made with R 4.2.2 and posterior 1.4.0 (recorded in the JSON). posterior 1.4.0 has no
# rhat_nested, so `rhat_nested_dev` below is a verbatim copy of `.rhat_nested` from
# posterior's development sources (R/convergence.R, stan-dev/posterior, 2024), the
# formula of Margossian et al. (2024), eqs. 4-8.

suppressPackageStartupMessages({
  library(posterior)
  library(jsonlite)
})

out_dir <- "test/golden"
set.seed(20240611)

ar1 <- function(n, rho, mu = 0) {
  x <- numeric(n)
  x[1] <- rnorm(1) / sqrt(1 - rho^2)
  for (t in 2:n) x[t] <- rho * x[t - 1] + rnorm(1)
  x + mu
}

# One matrix (draws x chains) per parameter.
make_case <- function(chains, draws, gen) {
  sapply(seq_len(chains), function(c) gen(c, draws))
}

cases <- list(
  main = list(chains = 4, draws = 200, params = list(
    iid_normal = make_case(4, 200, function(c, n) rnorm(n)),
    ar1_rho09 = make_case(4, 200, function(c, n) ar1(n, 0.9)),
    stuck_chain = make_case(4, 200, function(c, n) if (c == 4) rep(1.5, n) else rnorm(n)),
    heavy_tailed = make_case(4, 200, function(c, n) rt(n, df = 1)),
    constant = make_case(4, 200, function(c, n) rep(2.25, n)),
    ties = make_case(4, 200, function(c, n) round(rnorm(n), 1)),
    shifted_chain = make_case(4, 200, function(c, n) rnorm(n, mean = if (c == 1) 1 else 0))
  )),
  small = list(chains = 4, draws = 10, params = list(
    a = make_case(4, 10, function(c, n) rnorm(n)),
    b = make_case(4, 10, function(c, n) ar1(n, 0.5, mu = 3))
  )),
  odd = list(chains = 3, draws = 51, params = list(
    a = make_case(3, 51, function(c, n) ar1(n, 0.6)),
    b = make_case(3, 51, function(c, n) rexp(n))
  )),
  # 8 chains in 4 superchains of 2 consecutive chains, sharing an initial offset.
  nested = list(chains = 8, draws = 20, superchain_ids = rep(1:4, each = 2), params = list(
    mixed = make_case(8, 20, function(c, n) ar1(n, 0.3)),
    unmixed = make_case(8, 20, function(c, n) ar1(n, 0.7, mu = c(0, 0, 1, 1, 0, 0, -1, -1)[c]))
  ))
)

write_draws <- function(name, case) {
  rows <- expand.grid(draw = seq_len(case$draws), chain = seq_len(case$chains))
  df <- data.frame(chain = rows$chain, draw = rows$draw)
  for (p in names(case$params)) df[[p]] <- as.vector(signif(case$params[[p]], 8))
  path <- file.path(out_dir, paste0("draws_", name, ".csv"))
  write.csv(df, path, row.names = FALSE, quote = FALSE)
  path
}

read_draws <- function(path, case) {
  df <- read.csv(path)
  lapply(setNames(nm = names(case$params)), function(p) {
    matrix(df[[p]], nrow = case$draws, ncol = case$chains)
  })
}

rhat_nested_dev <- function(x, superchain_ids) {
  if (posterior:::should_return_NA(x)) return(NA_real_)
  x <- as.matrix(x)
  niterations <- NROW(x)
  nchains <- NCOL(x)
  if (length(superchain_ids) != nchains) return(NA_real_)
  superchain_id_table <- table(superchain_ids)
  nchains_per_superchain <- max(superchain_id_table)
  if (nchains_per_superchain != min(superchain_id_table)) return(NA_real_)
  superchains <- unique(superchain_ids)
  chain_mean <- matrixStats::colMeans2(x)
  chain_var <- matrixStats::colVars(x, center = chain_mean)
  superchain_mean <- sapply(superchains, function(k) mean(x[, which(superchain_ids == k)]))
  if (nchains_per_superchain == 1) {
    var_between_chain <- 0
  } else {
    var_between_chain <- sapply(superchains, function(k) var(chain_mean[which(superchain_ids == k)]))
  }
  if (niterations == 1) {
    var_within_chain <- 0
  } else {
    var_within_chain <- sapply(superchains, function(k) mean(chain_var[which(superchain_ids == k)]))
  }
  var_between_superchain <- var(superchain_mean)
  var_within_superchain <- mean(var_within_chain + var_between_chain)
  sqrt(1 + var_between_superchain / var_within_superchain)
}

num <- function(v) if (is.na(v)) NULL else unname(v)

estimates <- function(x, superchain_ids = NULL) {
  q <- quantile2(x, c(0.05, 0.5, 0.95))
  mq <- mcse_quantile(x, c(0.05, 0.95))
  eq <- ess_quantile(x, c(0.05, 0.95))
  e <- list(
    mean = mean(x), median = median(x), sd = sd(x),
    q5 = q[[1]], q50 = q[[2]], q95 = q[[3]],
    mcse_mean = mcse_mean(x), mcse_sd = mcse_sd(x),
    mcse_q5 = mq[[1]], mcse_q95 = mq[[2]],
    ess_bulk = ess_bulk(x), ess_tail = ess_tail(x),
    ess_mean = ess_mean(x), ess_basic = ess_basic(x),
    ess_q5 = eq[[1]], ess_q95 = eq[[2]],
    rhat = rhat(x), rhat_basic = rhat_basic(x)
  )
  if (!is.null(superchain_ids)) e$rhat_nested <- rhat_nested_dev(x, superchain_ids)
  lapply(e, function(v) if (is.na(v)) NA else unname(v))
}

golden <- list(
  generator = "test/golden/make_goldens.R",
  r_version = R.version.string,
  posterior_version = as.character(packageVersion("posterior")),
  cases = list()
)
for (name in names(cases)) {
  case <- cases[[name]]
  path <- write_draws(name, case)
  mats <- read_draws(path, case)
  golden$cases[[name]] <- list(
    file = basename(path), chains = case$chains, draws = case$draws,
    superchains = if (is.null(case$superchain_ids)) NA else length(unique(case$superchain_ids)),
    params = suppressWarnings(lapply(mats, estimates, superchain_ids = case$superchain_ids))
  )
}

# Special functions used by the estimators.
ps <- c(1e-300, 1e-20, 1e-8, 0.001, 0.05, 0.1586553, 0.3, 0.5, 0.8413447, 0.975, 1 - 1e-10)
golden$qnorm <- lapply(ps, function(p) list(p = p, value = qnorm(p)))
qb <- expand.grid(p = c(0.1586553, 0.8413447), ess = c(3.7, 40, 812.5, 4e5), prob = c(0.05, 0.5, 0.95))
golden$qbeta <- lapply(seq_len(nrow(qb)), function(i) {
  a <- qb$ess[i] * qb$prob[i] + 1
  b <- qb$ess[i] * (1 - qb$prob[i]) + 1
  list(p = qb$p[i], a = a, b = b, value = qbeta(qb$p[i], a, b))
})


# ---------------------------------------------------------------------------------------
# CmdStan output as CmdStan writes it (one CSV per chain: configuration comments, warmup
# rows when save_warmup = 1, the adaptation block, Stan's names theta.1), made here in
# CmdStan 2.33's format for an eight-schools-like posterior. R reads the files with
# rstan::read_stan_csv (which drops the warmup rows by the configuration) and the
# estimates come from posterior as above; divergences and E-BFMI (CmdStan's formula,
# sum of squared energy differences over the sum of squared deviations) from
# rstan::get_sampler_params without warmup.
# ---------------------------------------------------------------------------------------
cmdstan_dir <- file.path(out_dir, "cmdstan")
dir.create(cmdstan_dir, showWarnings = FALSE)
fmt <- function(x) as.character(signif(x, 6))
cmdstan_config <- function(id, num_warmup, num_samples, save_warmup, thin, engaged, file) {
  c("# stan_version_major = 2", "# stan_version_minor = 33", "# stan_version_patch = 1",
    "# model = eight_schools_model", "# start_datetime = 2026-11-20 09:14:03 UTC",
    "# method = sample (Default)", "#   sample",
    sprintf("#     num_samples = %d", num_samples), sprintf("#     num_warmup = %d", num_warmup),
    sprintf("#     save_warmup = %d", save_warmup), sprintf("#     thin = %d%s", thin, if (thin == 1) " (Default)" else ""),
    "#     adapt", sprintf("#       engaged = %d%s", engaged, if (engaged == 1) " (Default)" else ""), "#       gamma = 0.05 (Default)", "#       delta = 0.8 (Default)",
    "#       kappa = 0.75 (Default)", "#       t0 = 10 (Default)", "#       init_buffer = 75 (Default)",
    "#       term_buffer = 50 (Default)", "#       window = 25 (Default)", "#       save_metric = 0 (Default)",
    "#     algorithm = hmc (Default)", "#       hmc", "#         engine = nuts (Default)", "#           nuts",
    "#             max_depth = 10 (Default)", "#         metric = diag_e (Default)", "#         metric_file =  (Default)",
    "#         stepsize = 1 (Default)", "#         stepsize_jitter = 0 (Default)", "#     num_chains = 1 (Default)",
    sprintf("# id = %d", id), "# data", "#   file = eight_schools.data.json", "# init = 2 (Default)",
    "# random", "#   seed = 20261120", "# output", sprintf("#   file = %s", file),
    "#   diagnostic_file =  (Default)", "#   refresh = 100 (Default)", "#   sig_figs = -1 (Default)",
    "#   profile_file = profile.csv (Default)", "#   save_cmdstan_config = 0 (Default)",
    "# num_threads = 1 (Default)", "# stanc_version = stanc3 v2.33.1", "# stancflags = ")
}
# One chain of an eight-schools-like fit: warmup rows drift in from the initial point.
cmdstan_chain <- function(id, num_warmup, num_samples, save_warmup, thin, engaged, file) {
  nw <- if (save_warmup == 1) ceiling(num_warmup / thin) else 0
  ns <- ceiling(num_samples / thin)
  n <- nw + ns
  drift <- c(exp(-seq_len(nw) / 10) * 3, rep(0, ns))
  mu <- ar1(n, 0.5, 4.4) + drift
  log_tau <- 0.6 * ar1(n, 0.85) + 1 + drift / 3
  tau <- exp(log_tau)
  theta <- sapply(1:8, function(k) mu + tau * ar1(n, 0.3))
  step <- c(exp(-seq_len(nw) / 30) + 0.35, rep(0.389442, ns))
  treedepth <- sample(2:4, n, replace = TRUE)
  div <- as.integer(runif(n) < ifelse(log_tau < -0.5, 0.2, 0.01))
  lp <- -0.5 * rowSums((theta - mu)^2) / tau^2 - 8 * log_tau - mu^2 / 50 - tau^2 / 50 + log_tau
  energy <- -lp + rchisq(n, 10) / 2
  accept <- pmin(1, rbeta(n, 8, 2) + 0.05 * div)
  draws <- cbind(lp__ = lp, accept_stat__ = accept, stepsize__ = step, treedepth__ = treedepth,
                 n_leapfrog__ = 2^treedepth - 1, divergent__ = div, energy__ = energy,
                 mu = mu, tau = tau, theta = theta)
  colnames(draws)[10:17] <- paste0("theta.", 1:8)
  rows <- apply(draws, 1, function(r) paste(fmt(r), collapse = ","))
  lines <- c(cmdstan_config(id, num_warmup, num_samples, save_warmup, thin, engaged, basename(file)),
             paste(colnames(draws), collapse = ","),
             if (nw > 0) rows[seq_len(nw)],
             # With adaptation off CmdStan writes no adaptation block.
             if (engaged == 1) c("# Adaptation terminated", "# Step size = 0.389442",
               "# Diagonal elements of inverse mass matrix:",
               "# 21.8577, 1.13283, 28.3122, 25.1179, 27.2394, 25.2017, 27.3338, 24.8842, 26.2216, 27.9104"),
             rows[nw + seq_len(ns)],
             "# ", "#  Elapsed Time: 0.061 seconds (Warm-up)", "#                0.052 seconds (Sampling)",
             "#                0.113 seconds (Total)", "# ")
  writeLines(lines, file)
  file
}

cmdstan_cases <- list(
  # 4 chains, warmup saved: the rows before "# Adaptation terminated" are warmup.
  cmdstan_warmup = list(chains = 4, num_warmup = 150, num_samples = 200, save_warmup = 1, thin = 1, engaged = 1),
  # 3 chains, warmup saved and thinned, adaptation off (no marker): ceil(100 / 2) warmup rows.
  cmdstan_thin = list(chains = 3, num_warmup = 100, num_samples = 120, save_warmup = 1, thin = 2, engaged = 0),
  # 2 chains, warmup not saved.
  cmdstan_nowarmup = list(chains = 2, num_warmup = 300, num_samples = 150, save_warmup = 0, thin = 1, engaged = 1)
)
golden$cmdstan <- list()
for (name in names(cmdstan_cases)) {
  cc <- cmdstan_cases[[name]]
  files <- sapply(seq_len(cc$chains), function(i) {
    cmdstan_chain(i, cc$num_warmup, cc$num_samples, cc$save_warmup, cc$thin, cc$engaged,
                  file.path(cmdstan_dir, sprintf("%s_%d.csv", name, i)))
  })
  fit <- suppressWarnings(rstan::read_stan_csv(files))
  arr <- as.array(fit)
  sp <- rstan::get_sampler_params(fit, inc_warmup = FALSE)
  golden$cmdstan[[name]] <- list(
    files = file.path("cmdstan", basename(files)),
    chains = dim(arr)[2], draws = dim(arr)[1],
    params = suppressWarnings(lapply(setNames(nm = dimnames(arr)[[3]]), function(p) estimates(arr[, , p]))),
    divergences_per_chain = sapply(sp, function(s) sum(s[, "divergent__"])),
    ebfmi = sapply(sp, function(s) {
      e <- s[, "energy__"]
      sum(diff(e)^2) / sum((e - mean(e))^2)
    }),
    accept_rate = mean(sapply(sp, function(s) s[, "accept_stat__"]))
  )
}
golden$rstan_version <- as.character(packageVersion("rstan"))

writeLines(
  toJSON(golden, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
  file.path(out_dir, "posterior_goldens.json")
)
cat("wrote", file.path(out_dir, "posterior_goldens.json"), "\n")

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

writeLines(
  toJSON(golden, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
  file.path(out_dir, "posterior_goldens.json")
)
cat("wrote", file.path(out_dir, "posterior_goldens.json"), "\n")

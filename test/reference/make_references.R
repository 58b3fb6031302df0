# Reference posteriors for test/family_posterior.test.ts from long Stan runs.
# Run from test/reference:  Rscript make_references.R [data/<family>_<name>.json ...]
# (default: every data/*.json). For each data set, runs stan/<family>.stan (the model of
# src/model/: mu ~ Normal(0, 5), tau ~ Normal+(0, 5), theta_k ~ Normal(mu, tau), the family's
# likelihood) with 8 chains of 25,000 draws after 5,000 warmup iterations, adapt_delta 0.99,
# a fixed seed, and writes <family>_<name>.json: per parameter (mu, tau, log_tau,
# theta[<label>]) the posterior mean, sd, and their Monte Carlo standard errors and bulk ESS
# from the posterior package (Vehtari et al. 2021 rank-normalized ESS), with the Stan
# version, this command and the draw count.
# A data set with `predictors` ({ names, X: N rows of P }, README.md) runs
# stan/<family>_predictors.stan instead (eta_i = theta[group_i] + X[i] . beta,
# beta_p ~ Normal(0, 5)) and adds beta[<name>] to the parameters; its priors may be given in
# the data file (`priors`, README.md) and are written to the output.
suppressPackageStartupMessages({
  library(rstan)
  library(jsonlite)
  library(posterior)
})
options(mc.cores = 2)
rstan_options(auto_write = TRUE)

CHAINS <- 8
WARMUP <- 5000
DRAWS <- 25000
ADAPT_DELTA <- 0.99
SEED <- 20240611

args <- commandArgs(trailingOnly = TRUE)
files <- if (length(args)) args else Sys.glob("data/*.json")
command <- paste("Rscript make_references.R", paste(args, collapse = " "))

# The priors of a data set with predictors: its `priors` key (any of mu: {loc, scale},
# tau: {kind: "halfnormal" | "halfcauchy", scale}, beta: {loc, scale}) over FunnelWeb's
# defaults (src/model/priors.ts: Normal(0, 5), HalfNormal(5), Normal(0, 5)). Returns the Stan
# data and the priors as written to the output.
prior_constants <- function(given) {
  p <- list(mu = list(kind = "normal", loc = 0, scale = 5), tau = list(kind = "halfnormal", scale = 5),
            beta = list(kind = "normal", loc = 0, scale = 5))
  for (k in names(given)) {
    if (!(k %in% names(p))) stop("unknown prior '", k, "' (mu, tau, beta)")
    for (f in names(given[[k]])) p[[k]][[f]] <- given[[k]][[f]]
  }
  if (!(p$tau$kind %in% c("halfnormal", "halfcauchy"))) stop("tau prior: halfnormal or halfcauchy, got ", p$tau$kind)
  list(
    data = list(mu_loc = p$mu$loc, mu_scale = p$mu$scale, tau_scale = p$tau$scale,
                tau_cauchy = as.integer(p$tau$kind == "halfcauchy"), beta_loc = p$beta$loc, beta_scale = p$beta$scale),
    json = p
  )
}

for (file in files) {
  d <- fromJSON(file, simplifyVector = TRUE)
  family <- d$likelihood
  name <- sub("\\.json$", "", basename(file))
  standata <- list(N = length(d$y), K = d$K, group = d$group + 1L, y = as.integer(d$y))
  if (family == "binomial") standata$trials <- as.integer(d$trials)
  if (family == "poisson") standata$exposure <- if (is.null(d$exposure)) rep(1, length(d$y)) else as.numeric(d$exposure)
  has_predictors <- !is.null(d$predictors)
  if (!has_predictors && !is.null(d$priors)) stop(file, ": `priors` are read only with `predictors` (stan/", family, ".stan has the defaults)")
  if (has_predictors) {
    beta_names <- as.character(d$predictors$names)
    X <- matrix(as.numeric(d$predictors$X), nrow = length(d$y))
    if (ncol(X) != length(beta_names)) stop(file, ": predictors$X has ", ncol(X), " columns, ", length(beta_names), " names")
    priors <- prior_constants(d$priors)
    standata <- c(standata, list(P = ncol(X), X = X), priors$data)
  }
  model_file <- file.path("stan", paste0(family, if (has_predictors) "_predictors", ".stan"))
  model <- stan_model(model_file)
  started <- Sys.time()
  fit <- sampling(model, data = standata, chains = CHAINS, warmup = WARMUP, iter = WARMUP + DRAWS,
                  seed = SEED, control = list(adapt_delta = ADAPT_DELTA), refresh = 0)
  elapsed <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  arr <- as.array(fit, pars = c("mu", "tau", "theta", if (has_predictors) "beta"))
  draws <- as_draws_array(arr)
  draws <- mutate_variables(draws, log_tau = log(tau))
  s <- summarise_draws(draws, mean, sd, mcse_mean, mcse_sd, ess_bulk, ess_tail, rhat)
  out_name <- function(v) {
    m <- regmatches(v, regexec("^theta\\[([0-9]+)\\]$", v))[[1]]
    if (length(m)) return(sprintf("theta[%s]", d$labels[as.integer(m[2])]))
    m <- regmatches(v, regexec("^beta\\[([0-9]+)\\]$", v))[[1]]
    if (length(m)) sprintf("beta[%s]", beta_names[as.integer(m[2])]) else v
  }
  params <- list()
  for (i in seq_len(nrow(s))) {
    params[[out_name(s$variable[i])]] <- list(
      mean = s$mean[i], sd = s$sd[i], mcse_mean = s$mcse_mean[i], mcse_sd = s$mcse_sd[i],
      ess_bulk = s$ess_bulk[i], ess_tail = s$ess_tail[i], rhat = s$rhat[i]
    )
  }
  sp <- get_sampler_params(fit, inc_warmup = FALSE)
  out <- list(
    data = basename(file),
    likelihood = family,
    model = model_file,
    stan_version = stan_version(),
    rstan_version = as.character(packageVersion("rstan")),
    posterior_version = as.character(packageVersion("posterior")),
    command = command,
    chains = CHAINS, warmup = WARMUP, draws_per_chain = DRAWS, draws = CHAINS * DRAWS,
    adapt_delta = ADAPT_DELTA, seed = SEED,
    divergences = sum(sapply(sp, function(x) sum(x[, "divergent__"]))),
    max_rhat = max(s$rhat),
    min_ess_bulk = min(s$ess_bulk),
    params = params
  )
  if (has_predictors) {
    out <- append(out, list(predictors = I(beta_names), priors = priors$json, sampling_s = round(elapsed, 1)),
                  after = which(names(out) == "params") - 1L)
  }
  write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), paste0(name, ".json"))
  cat(sprintf("%s: %d draws, %d divergences, max R-hat %.4f, min bulk ESS %.0f, %.0f s sampling\n",
              name, CHAINS * DRAWS, out$divergences, out$max_rhat, out$min_ess_bulk, elapsed))
}

# Reference posteriors for test/family_posterior.test.ts from long Stan runs.
# Run from test/reference:  Rscript make_references.R [data/<family>_<name>.json ...]
# (default: every data/*.json). For each data set, runs stan/<family>.stan (the model of
# src/model/: mu ~ Normal(0, 5), tau ~ Normal+(0, 5), theta_k ~ Normal(mu, tau), the family's
# likelihood) with 8 chains of 25,000 draws after 5,000 warmup iterations, adapt_delta 0.99,
# a fixed seed, and writes <family>_<name>.json: per parameter (mu, tau, log_tau,
# theta[<label>]) the posterior mean, sd, and their Monte Carlo standard errors and bulk ESS
# from the posterior package (Vehtari et al. 2021 rank-normalized ESS), with the Stan
# version, this command and the draw count.
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

for (file in files) {
  d <- fromJSON(file, simplifyVector = TRUE)
  family <- d$likelihood
  name <- sub("\\.json$", "", basename(file))
  standata <- list(N = length(d$y), K = d$K, group = d$group + 1L, y = as.integer(d$y))
  if (family == "binomial") standata$trials <- as.integer(d$trials)
  if (family == "poisson") standata$exposure <- if (is.null(d$exposure)) rep(1, length(d$y)) else as.numeric(d$exposure)
  model <- stan_model(file.path("stan", paste0(family, ".stan")))
  fit <- sampling(model, data = standata, chains = CHAINS, warmup = WARMUP, iter = WARMUP + DRAWS,
                  seed = SEED, control = list(adapt_delta = ADAPT_DELTA), refresh = 0)
  arr <- as.array(fit, pars = c("mu", "tau", "theta"))
  draws <- as_draws_array(arr)
  draws <- mutate_variables(draws, log_tau = log(tau))
  s <- summarise_draws(draws, mean, sd, mcse_mean, mcse_sd, ess_bulk, ess_tail, rhat)
  out_name <- function(v) {
    m <- regmatches(v, regexec("^theta\\[([0-9]+)\\]$", v))[[1]]
    if (length(m)) sprintf("theta[%s]", d$labels[as.integer(m[2])]) else v
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
    model = file.path("stan", paste0(family, ".stan")),
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
  write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), paste0(name, ".json"))
  cat(sprintf("%s: %d draws, %d divergences, max R-hat %.4f, min bulk ESS %.0f\n",
              name, CHAINS * DRAWS, out$divergences, out$max_rhat, out$min_ess_bulk))
}

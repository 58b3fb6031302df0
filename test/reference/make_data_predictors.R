# Writes the reference data sets with population-level predictors under data/ (JSON: the keys
# of the other sets -- likelihood, y, group (0-based), K, labels, trials or exposure -- and
# `predictors`: { names: [P names], X: [N rows of P numbers] }, observation i's row X[i], the
# linear predictor eta_i = theta[group_i] + X[i] . beta). Run from test/reference:
#   Rscript make_data_predictors.R
#   binomial_predictors_seeds:  posteriordb's "seeds" (Crowder 1978, BUGS Examples vol. 1;
#       data/posteriordb/seeds_data.json): germinated seeds n of N on 21 plates, each plate its
#       own group; predictors x1 (seed), x2 (extract) and their product x1:x2.
#   poisson_predictors_glmm:    posteriordb's "GLMM_Poisson_data" (Kery & Schaub 2012;
#       data/posteriordb/GLMM_Poisson_data.json): counts C in 40 years, each year its own group
#       (the overdispersion), exposure 1; predictors year (standardized), year:year,
#       year:year:year.
#   binomial_predictors_synthetic: 60 groups of 2-12 observations, trials 5-40;
#       x1 ~ Normal(0, 1) and x2 ~ Bernoulli(0.5) per observation, x3 ~ Normal(0, 1) per group;
#       mu = -0.5, tau = 0.7, beta = (0.5, -0.8, 0.3).
#   poisson_predictors_synthetic: 50 groups of 1-10 observations, exposure Uniform(0.5, 5);
#       x1 ~ Normal(0, 1) and x2 ~ Bernoulli(0.4) per observation;
#       mu = 0.5, tau = 0.5, beta = (0.4, -0.6).
library(jsonlite)
dir.create("data", showWarnings = FALSE)

write_set <- function(name, d) {
  write(toJSON(d, auto_unbox = TRUE, digits = NA, pretty = TRUE, matrix = "rowmajor"),
        file.path("data", paste0(name, ".json")))
}
# N x P matrix, named columns -> { names, X } (X a list of N rows; a matrix is written row by row).
predictors <- function(X) list(names = I(colnames(X)), X = unname(X))

seeds <- fromJSON("data/posteriordb/seeds_data.json")
write_set("binomial_predictors_seeds", list(
  likelihood = "binomial", y = seeds$n, group = seq_len(seeds$I) - 1L, K = seeds$I,
  labels = as.character(seq_len(seeds$I)), trials = seeds$N,
  predictors = predictors(cbind(x1 = seeds$x1, x2 = seeds$x2, "x1:x2" = seeds$x1 * seeds$x2))
))

glmm <- fromJSON("data/posteriordb/GLMM_Poisson_data.json")
yr <- glmm$year
write_set("poisson_predictors_glmm", list(
  likelihood = "poisson", y = glmm$C, group = seq_len(glmm$n) - 1L, K = glmm$n,
  labels = as.character(seq_len(glmm$n)), exposure = rep(1, glmm$n),
  predictors = predictors(cbind(year = yr, "year:year" = yr * yr, "year:year:year" = yr * yr * yr))
))

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240613)
K <- 60
n_k <- sample(2:12, K, replace = TRUE)
group <- rep(seq_len(K) - 1L, n_k)
N <- length(group)
theta <- -0.5 + 0.7 * rnorm(K)
x3_k <- round(rnorm(K), 3)
X <- cbind(x1 = round(rnorm(N), 3), x2 = rbinom(N, 1, 0.5), x3 = x3_k[group + 1L])
trials <- sample(5:40, N, replace = TRUE)
y <- rbinom(N, trials, plogis(theta[group + 1L] + drop(X %*% c(0.5, -0.8, 0.3))))
write_set("binomial_predictors_synthetic", list(
  likelihood = "binomial", y = y, group = group, K = K, labels = sprintf("b%02d", seq_len(K)),
  trials = trials, predictors = predictors(X)
))

set.seed(20240614)
K <- 50
n_k <- sample(1:10, K, replace = TRUE)
group <- rep(seq_len(K) - 1L, n_k)
N <- length(group)
theta <- 0.5 + 0.5 * rnorm(K)
X <- cbind(x1 = round(rnorm(N), 3), x2 = rbinom(N, 1, 0.4))
exposure <- round(runif(N, 0.5, 5), 2)
y <- rpois(N, exposure * exp(theta[group + 1L] + drop(X %*% c(0.4, -0.6))))
write_set("poisson_predictors_synthetic", list(
  likelihood = "poisson", y = y, group = group, K = K, labels = sprintf("p%02d", seq_len(K)),
  exposure = exposure, predictors = predictors(X)
))

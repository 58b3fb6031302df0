# Writes two wide reference data sets (run by the device's wide kernels: K > 16), from
# test/reference: Rscript make_data_wide.R
#   data/binomial_wide.json: 150 groups, theta_k ~ Normal(-1, 0.8), trials log-uniform from
#     1 to 500 (whole numbers), one observation each, y ~ Binomial(trials, inv_logit(theta_k));
#   data/poisson_wide.json: 120 groups, theta_k ~ Normal(0.5, 0.6), 1 to 3 observations each
#     with exposure log-uniform from 0.1 to 100, y ~ Poisson(exposure exp(theta_k)).
library(jsonlite)
dir.create("data", showWarnings = FALSE)
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20261207)
K <- 150
theta <- -1 + 0.8 * rnorm(K)
trials <- pmax(1, round(exp(runif(K, 0, log(500)))))
y <- rbinom(K, trials, plogis(theta))
write(toJSON(list(
  likelihood = "binomial", y = y, group = seq_len(K) - 1, K = K, labels = sprintf("b%03d", seq_len(K)), trials = trials
), auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path("data", "binomial_wide.json"))

K <- 120
theta <- 0.5 + 0.6 * rnorm(K)
y <- c(); group <- c(); exposure <- c()
for (k in seq_len(K)) {
  for (j in seq_len(1 + (k %% 3))) {
    e <- signif(exp(runif(1, log(0.1), log(100))), 3)
    y <- c(y, rpois(1, e * exp(theta[k])))
    group <- c(group, k - 1)
    exposure <- c(exposure, e)
  }
}
write(toJSON(list(
  likelihood = "poisson", y = y, group = group, K = K, labels = sprintf("p%03d", seq_len(K)), exposure = exposure
), auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path("data", "poisson_wide.json"))

# Writes the binomial reference data sets under data/ (JSON: likelihood, y, group (0-based),
# K, labels, trials). Run from test/reference: Rscript make_data.R
#   surgical:  posteriordb's "surgical" (Spiegelhalter et al. 1996, BUGS Examples vol. 1):
#              deaths r of n operations at 12 hospitals.
#   synthetic: 30 groups, total trials log-uniform from 2 to 2,000 (the first group 2, the
#              second 2,000), every fifth group's trials split over two observations;
#              theta_k ~ Normal(-1, 0.8), y ~ Binomial(trials, inv_logit(theta_k)).
library(jsonlite)
dir.create("data", showWarnings = FALSE)

write_set <- function(name, d) {
  write(toJSON(d, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path("data", paste0(name, ".json")))
}

r <- c(0, 18, 8, 46, 8, 13, 9, 31, 14, 8, 29, 24)
n <- c(47, 148, 119, 810, 211, 196, 148, 215, 207, 97, 256, 360)
write_set("binomial_surgical", list(
  likelihood = "binomial", y = r, group = 0:11, K = 12L, labels = LETTERS[1:12], trials = n
))

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240611)
K <- 30
total <- round(exp(runif(K, log(2), log(2000))))
total[1] <- 2
total[2] <- 2000
theta <- -1 + 0.8 * rnorm(K)
y <- c(); group <- c(); trials <- c()
for (k in seq_len(K)) {
  parts <- if (k %% 5 == 0 && total[k] >= 2) c(total[k] %/% 2, total[k] - total[k] %/% 2) else total[k]
  for (t in parts) {
    y <- c(y, rbinom(1, t, plogis(theta[k])))
    group <- c(group, k - 1)
    trials <- c(trials, t)
  }
}
write_set("binomial_synthetic", list(
  likelihood = "binomial", y = y, group = group, K = K, labels = sprintf("g%02d", seq_len(K)), trials = trials
))

# Writes the Poisson reference data set data/poisson_synthetic.json (JSON: likelihood, y,
# group (0-based), K, labels, exposure). Run from test/reference: Rscript make_data_poisson.R
#   20 groups, total exposure log-uniform from 0.5 to 200 (the first group 0.5, the second
#   200), every fourth group's exposure split over two observations;
#   theta_k ~ Normal(-1, 1), y ~ Poisson(exposure exp(theta_k)).
library(jsonlite)
dir.create("data", showWarnings = FALSE)
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240612)
K <- 20
total <- signif(exp(runif(K, log(0.5), log(200))), 3)
total[1] <- 0.5
total[2] <- 200
theta <- -1 + rnorm(K)
y <- c(); group <- c(); exposure <- c()
for (k in seq_len(K)) {
  parts <- if (k %% 4 == 0) c(0.25, 0.75) * total[k] else total[k]
  for (e in parts) {
    y <- c(y, rpois(1, e * exp(theta[k])))
    group <- c(group, k - 1)
    exposure <- c(exposure, e)
  }
}
write(toJSON(list(
  likelihood = "poisson", y = y, group = group, K = K, labels = sprintf("r%02d", seq_len(K)), exposure = exposure
), auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path("data", "poisson_synthetic.json"))

// radon_mn as posteriordb's radon_hierarchical_intercept_noncentered (radon_mn-
// radon_hierarchical_intercept_noncentered), for test/bench/stan_predictors.ts: county
// intercepts non-centered, theta_j = mu + tau z_j, z_j ~ normal(0, 1), and the population-level
// predictors (log_uppm, floor_measure) as the columns of X, the residual sd sigma unknown:
//   log_radon_i ~ normal(theta[county_i] + X_i . beta, sigma).
// Priors as data, from the same case as FunnelWeb's flags (posteriordb's: mu ~ normal(0, 10),
// tau ~ half-normal(1), sigma ~ half-normal(1), beta ~ normal(0, 10)). Stan 2.21 array syntax.
data {
  int<lower=1> N;
  int<lower=1> J;
  int<lower=1, upper=J> g[N];              // county of observation i
  int<lower=0> P;
  matrix[N, P] X;
  vector[N] y;
  real mu_loc;
  real<lower=0> mu_scale;
  real<lower=0> tau_scale;                 // tau ~ half-normal(tau_scale)
  real<lower=0> sigma_scale;               // sigma ~ half-normal(sigma_scale)
  real beta_loc;
  real<lower=0> beta_scale;
}
parameters {
  vector[J] z;
  vector[P] beta;
  real mu;
  real<lower=0> tau;
  real<lower=0> sigma;
}
transformed parameters {
  vector[J] theta = mu + tau * z;
}
model {
  mu ~ normal(mu_loc, mu_scale);
  tau ~ normal(0, tau_scale);
  sigma ~ normal(0, sigma_scale);
  beta ~ normal(beta_loc, beta_scale);
  z ~ normal(0, 1);
  y ~ normal(theta[g] + X * beta, sigma);
}

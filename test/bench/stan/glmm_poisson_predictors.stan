// GLMM_Poisson (posteriordb's GLMM_Poisson_data: counts C over 40 standardized years) with
// non-centered year effects, for test/bench/stan_predictors.ts: each year i its own random
// intercept, theta_i = mu + tau z_i, z_i ~ normal(0, 1) (posteriordb's GLMM_Poisson_model,
// alpha + eps_i, with eps non-centered), and the cubic trend (year, year^2, year^3) as the
// columns of X:
//   C_i ~ poisson_log(theta_i + X_i . beta).
// Priors as data, from the same case as FunnelWeb's flags: mu ~ normal(0, 10),
// tau ~ half-normal(1), beta ~ normal(0, 5). Stan 2.21 array syntax.
data {
  int<lower=1> N;
  int<lower=0> P;
  matrix[N, P] X;
  int<lower=0> y[N];                       // posteriordb's C
  real mu_loc;
  real<lower=0> mu_scale;
  real<lower=0> tau_scale;                 // tau ~ half-normal(tau_scale)
  real beta_loc;
  real<lower=0> beta_scale;
}
parameters {
  vector[N] z;
  vector[P] beta;
  real mu;
  real<lower=0> tau;
}
transformed parameters {
  vector[N] theta = mu + tau * z;
}
model {
  mu ~ normal(mu_loc, mu_scale);
  tau ~ normal(0, tau_scale);
  beta ~ normal(beta_loc, beta_scale);
  z ~ normal(0, 1);
  y ~ poisson_log(theta + X * beta);
}

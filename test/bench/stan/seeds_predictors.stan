// seeds (posteriordb's seeds_data) with non-centered plate effects, for
// test/bench/stan_predictors.ts: each plate i its own random intercept,
// theta_i = mu + tau z_i, z_i ~ normal(0, 1) (posteriordb's seeds model with b_i = theta_i - mu
// non-centered), and the predictors (x1, x2, x1:x2) as the columns of X:
//   n_i ~ binomial_logit(N_i, theta_i + X_i . beta).
// Priors as data, from the same case as FunnelWeb's flags: mu ~ normal(0, 10),
// tau ~ half-normal(1), beta ~ normal(0, 10). Stan 2.21 array syntax.
data {
  int<lower=1> N;
  int<lower=0> P;
  matrix[N, P] X;
  int<lower=0> y[N];                       // germinated seeds (posteriordb's n)
  int<lower=1> trials[N];                  // seeds on the plate (posteriordb's N)
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
  y ~ binomial_logit(trials, theta + X * beta);
}

// FunnelWeb's binomial-logit hierarchical model with population-level predictors
// (src/model/families/binomial.ts with the hierarchy and predictors of src/model/model.ts):
//   mu ~ Normal(mu_loc, mu_scale),  tau ~ Normal+(0, tau_scale) (or Cauchy+),
//   beta_p ~ Normal(beta_loc, beta_scale),  theta_k ~ Normal(mu, tau),
//   y_i ~ Binomial(trials_i, inv_logit(theta[group_i] + x_i . beta)).
// The priors' constants are data (defaults, make_references.R: Normal(0, 5), HalfNormal(5),
// Normal(0, 5)). Written non-centered (theta = mu + tau eta): the same posterior of
// (mu, tau, theta, beta).
data {
  int<lower=0> N;
  int<lower=1> K;
  int<lower=1> P;
  int<lower=1, upper=K> group[N];  // 1-based here; the JSON's are 0-based
  int<lower=1> trials[N];
  int<lower=0> y[N];
  matrix[N, P] X;                   // the predictors as given (no centring or rescaling)
  real mu_loc;
  real<lower=0> mu_scale;
  real<lower=0> tau_scale;
  int<lower=0, upper=1> tau_cauchy; // 0: HalfNormal(tau_scale), 1: HalfCauchy(tau_scale)
  real beta_loc;
  real<lower=0> beta_scale;
}
parameters {
  real mu;
  real<lower=0> tau;
  vector[P] beta;
  vector[K] eta;
}
transformed parameters {
  vector[K] theta = mu + tau * eta;
}
model {
  mu ~ normal(mu_loc, mu_scale);
  if (tau_cauchy) tau ~ cauchy(0, tau_scale);
  else tau ~ normal(0, tau_scale);
  beta ~ normal(beta_loc, beta_scale);
  eta ~ std_normal();
  y ~ binomial_logit(trials, theta[group] + X * beta);
}

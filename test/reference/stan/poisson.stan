// FunnelWeb's Poisson-log hierarchical model (src/model/families/poisson.ts with the
// hierarchy of src/model/model.ts and the default priors of src/model/priors.ts):
//   mu ~ Normal(0, 5),  tau ~ Normal+(0, 5),  theta_k ~ Normal(mu, tau),
//   y_i ~ Poisson(exposure_i exp(theta[group_i])).
// Written non-centered (theta = mu + tau eta): the same posterior of (mu, tau, theta).
data {
  int<lower=0> N;
  int<lower=1> K;
  int<lower=1, upper=K> group[N];  // 1-based here; the JSON's are 0-based
  vector<lower=0>[N] exposure;
  int<lower=0> y[N];
}
parameters {
  real mu;
  real<lower=0> tau;
  vector[K] eta;
}
transformed parameters {
  vector[K] theta = mu + tau * eta;
}
model {
  mu ~ normal(0, 5);
  tau ~ normal(0, 5);
  eta ~ std_normal();
  y ~ poisson_log(log(exposure) + theta[group]);
}

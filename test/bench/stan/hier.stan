// The hierarchical normal model of FunnelWeb on per-group sufficient statistics, with
// FunnelWeb's per-group centeredness c_k (Gorinova, Moore & Hoffman 2020):
//   z_k ~ normal(c_k mu, tau^c_k),  theta_k = mu + tau^(1 - c_k) (z_k - c_k mu),
// so c_k = 1 is the centered form (z_k = theta_k), c_k = 0 the non-centered one
// (theta_k = mu + tau z_k), and a 0/1 vector Betancourt's mixed model. One compiled model
// serves every case of test/bench/stan.ts.
data {
  int<lower=1> K;
  int<lower=0> J;                          // groups with data
  int<lower=1, upper=K> g[J];              // which groups (Stan 2.21 array syntax)
  vector[J] ybar;                          // precision-weighted mean of group g[j]
  vector<lower=0>[J] se;                   // its standard error P^(-1/2) (= sigma / sqrt(n) for one sigma)
  vector<lower=0, upper=1>[K] c;
  real mu_loc;
  real<lower=0> mu_scale;
  real<lower=0> tau_scale;                 // tau ~ half-normal(tau_scale)
}
parameters {
  real mu;
  real<lower=0> tau;
  vector[K] z;
}
transformed parameters {
  vector[K] theta;
  for (k in 1:K) theta[k] = mu + pow(tau, 1 - c[k]) * (z[k] - c[k] * mu);
}
model {
  mu ~ normal(mu_loc, mu_scale);
  tau ~ normal(0, tau_scale);
  for (k in 1:K) z[k] ~ normal(c[k] * mu, pow(tau, c[k]));
  ybar ~ normal(theta[g], se);
}

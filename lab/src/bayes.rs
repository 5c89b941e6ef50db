//! Bayesian models on the real datasets shipped in `data/` (see `data/README.md`):
//! logistic regression ([`LogisticRegression`]) and a one-hidden-layer neural network for
//! regression ([`Bnn`]). Both standardise features with the training split's statistics, hold
//! out a test split, and offer minibatch score estimates for SGLD.

use crate::problem::{Predictive, Problem};
use entropic_transport::rng::uniform;
use entropic_transport::{DefaultRng, Target};
use rand_core::SeedableRng;

/// A design matrix and responses, row-major.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// Features (rows, features).
    pub x: Vec<f64>,
    /// Responses (rows).
    pub y: Vec<f64>,
    /// Number of feature columns.
    pub features: usize,
}

impl Dataset {
    /// Reads a CSV with one header line, numeric cells, and the response in the last column.
    pub fn from_csv(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path:?}: {e}"))?;
        let mut data = Dataset::default();
        for (number, line) in text.lines().enumerate().skip(1) {
            let cells: Result<Vec<f64>, _> = line.split(',').map(|c| c.trim().parse()).collect();
            let cells = cells.map_err(|e| format!("{path:?} line {}: {e}", number + 1))?;
            let (y, x) = cells.split_last().ok_or_else(|| "empty line".to_string())?;
            if data.features == 0 {
                data.features = x.len();
            } else if x.len() != data.features {
                return Err(format!("{path:?} line {}: ragged row", number + 1));
            }
            data.x.extend_from_slice(x);
            data.y.push(*y);
        }
        Ok(data)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Features of row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.features..(i + 1) * self.features]
    }

    /// The rows `index`, in that order.
    fn select(&self, index: &[usize]) -> Dataset {
        let mut out = Dataset {
            features: self.features,
            ..Dataset::default()
        };
        for &i in index {
            out.x.extend_from_slice(self.row(i));
            out.y.push(self.y[i]);
        }
        out
    }

    /// A seeded random split into (train, test) with `test_fraction` of the rows held out.
    pub fn split(&self, test_fraction: f64, seed: u64) -> (Dataset, Dataset) {
        let mut index: Vec<usize> = (0..self.rows()).collect();
        let mut rng = DefaultRng::seed_from_u64(seed);
        for i in (1..index.len()).rev() {
            let u: f64 = uniform(&mut rng);
            index.swap(i, ((i + 1) as f64 * u) as usize);
        }
        let test = (self.rows() as f64 * test_fraction).round() as usize;
        (self.select(&index[test..]), self.select(&index[..test]))
    }
}

/// Mean and standard deviation (normalised by n) of `values`.
fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count() as f64;
    let mean = values.clone().sum::<f64>() / n;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt().max(1e-12))
}

/// Standardises the feature columns of `train` and `test` with the training mean and std.
pub fn standardise_features(train: &mut Dataset, test: &mut Dataset) {
    let p = train.features;
    for j in 0..p {
        let (m, s) = mean_std(train.x.iter().skip(j).step_by(p).copied());
        // Both lengths are multiples of p, so the stride stays on column j across the chain.
        for v in train
            .x
            .iter_mut()
            .chain(test.x.iter_mut())
            .skip(j)
            .step_by(p)
        {
            *v = (*v - m) / s;
        }
    }
}

/// Loads a CSV, splits it 80 / 20 with `seed`, and standardises the features.
pub fn load_split(path: &std::path::Path, seed: u64) -> Result<(Dataset, Dataset), String> {
    let (mut train, mut test) = Dataset::from_csv(path)?.split(0.2, seed);
    standardise_features(&mut train, &mut test);
    Ok((train, test))
}

/// `ln(1 + e^t)`, stable for any `t`.
fn softplus(t: f64) -> f64 {
    t.max(0.0) + (-t.abs()).exp().ln_1p()
}

/// `1 / (1 + e^-t)`.
fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

/// `n` row indices drawn uniformly with replacement from `0..rows`, into `out`.
fn minibatch(rows: usize, out: &mut Vec<usize>, n: usize, rng: &mut DefaultRng) {
    out.clear();
    out.extend((0..n).map(|_| ((rows as f64) * uniform::<f64, _>(rng)) as usize % rows));
}

/// Row indices and the factor that scales their sum to the full-data sum.
struct Rows<'a> {
    index: Option<&'a [usize]>,
    count: usize,
}

impl Rows<'_> {
    fn scale(&self) -> f64 {
        self.index
            .map_or(1.0, |ix| self.count as f64 / ix.len() as f64)
    }
}

/// A differentiable log-likelihood per data row, with a Gaussian prior; shared machinery of the
/// two data models (batch density, full score, minibatch score).
trait RowModel {
    fn train(&self) -> &Dataset;
    /// `log p(y_i | x_i, theta)`, adding `scale * grad` into `grad` when given.
    fn row(&self, theta: &[f64], i: usize, scale: f64, grad: Option<&mut [f64]>) -> f64;
    /// Log prior, adding its gradient into `grad` when given.
    fn prior(&self, theta: &[f64], grad: Option<&mut [f64]>) -> f64;
    /// Minibatch size for SGLD.
    fn batch(&self) -> usize;
    /// Reusable buffer for minibatch indices.
    fn scratch(&mut self) -> &mut Vec<usize>;

    fn log_post(&self, theta: &[f64], rows: &Rows, mut grad: Option<&mut [f64]>) -> f64 {
        if let Some(g) = grad.as_deref_mut() {
            g.fill(0.0);
        }
        let scale = rows.scale();
        let mut total = self.prior(theta, grad.as_deref_mut());
        let mut add = |i| total += scale * self.row(theta, i, scale, grad.as_deref_mut());
        match rows.index {
            Some(index) => index.iter().for_each(|&i| add(i)),
            None => (0..rows.count).for_each(add),
        }
        total
    }
}

/// Implements `Target<f64>` and the score parts of `Problem` for a `RowModel`.
macro_rules! row_model_problem {
    ($t:ty) => {
        impl Target<f64> for $t {
            fn log_density(&mut self, x: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
                let rows = Rows {
                    index: None,
                    count: self.train().rows(),
                };
                for (p, o) in x.chunks_exact(dim).zip(out.iter_mut()) {
                    *o = self.log_post(p, &rows, None);
                }
                Ok(())
            }

            fn score(&mut self, x: &[f64], dim: usize, out: &mut [f64]) -> Result<(), i32> {
                let rows = Rows {
                    index: None,
                    count: self.train().rows(),
                };
                for (p, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
                    self.log_post(p, &rows, Some(o));
                }
                Ok(())
            }

            fn has_score(&self) -> bool {
                true
            }
        }
    };
}

/// Bayesian logistic regression `p(y = 1 | x) = sigmoid(w . x + b)` with the prior
/// `(w, b) ~ N(0, prior_std^2 I)`; parameters `theta = (w, b)`, d = features + 1.
#[derive(Clone, Debug)]
pub struct LogisticRegression {
    /// Standardised training split.
    pub train: Dataset,
    /// Standardised test split.
    pub test: Dataset,
    /// Prior standard deviation (5 in the experiments).
    pub prior_std: f64,
    /// SGLD minibatch size.
    pub batch: usize,
    scratch: Vec<usize>,
}

impl LogisticRegression {
    /// The model on a (train, test) split.
    pub fn new(train: Dataset, test: Dataset, prior_std: f64, batch: usize) -> Self {
        LogisticRegression {
            train,
            test,
            prior_std,
            batch,
            scratch: Vec::new(),
        }
    }

    /// The linear predictor of `theta` at features `x`.
    fn eta(theta: &[f64], x: &[f64]) -> f64 {
        let (b, w) = theta.split_last().unwrap_or((&0.0, &[]));
        b + w.iter().zip(x).map(|(a, c)| a * c).sum::<f64>()
    }
}

impl RowModel for LogisticRegression {
    fn train(&self) -> &Dataset {
        &self.train
    }

    fn row(&self, theta: &[f64], i: usize, scale: f64, grad: Option<&mut [f64]>) -> f64 {
        let x = self.train.row(i);
        let y = self.train.y[i];
        let eta = Self::eta(theta, x);
        if let Some(g) = grad {
            let r = scale * (y - sigmoid(eta));
            if let Some((gb, gw)) = g.split_last_mut() {
                gw.iter_mut().zip(x).for_each(|(a, c)| *a += r * c);
                *gb += r;
            }
        }
        y * eta - softplus(eta)
    }

    fn prior(&self, theta: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let v = self.prior_std * self.prior_std;
        if let Some(g) = grad {
            g.iter_mut().zip(theta).for_each(|(a, t)| *a -= t / v);
        }
        -0.5 * theta.iter().map(|t| t * t).sum::<f64>() / v
    }

    fn batch(&self) -> usize {
        self.batch
    }

    fn scratch(&mut self) -> &mut Vec<usize> {
        &mut self.scratch
    }
}

row_model_problem!(LogisticRegression);

/// Minibatch score of a `RowModel` at `x` (count, dim) into `out` (count, dim).
fn minibatch_score<M: RowModel>(
    model: &mut M,
    x: &[f64],
    dim: usize,
    out: &mut [f64],
    rng: &mut DefaultRng,
) {
    let mut scratch = core::mem::take(model.scratch());
    let rows = model.train().rows();
    for (p, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        minibatch(rows, &mut scratch, model.batch(), rng);
        let sel = Rows {
            index: Some(&scratch),
            count: rows,
        };
        model.log_post(p, &sel, Some(o));
    }
    *model.scratch() = scratch;
}

impl Problem for LogisticRegression {
    fn dim(&self) -> usize {
        self.train.features + 1
    }

    fn stochastic_score(
        &mut self,
        x: &[f64],
        out: &mut [f64],
        rng: &mut DefaultRng,
    ) -> Result<(), i32> {
        let dim = self.dim();
        minibatch_score(self, x, dim, out, rng);
        Ok(())
    }

    /// Accuracy and log-likelihood of the posterior-predictive probability
    /// `mean_k sigmoid(eta_k(x))` on the test split.
    fn predictive(&self, particles: &[f64]) -> Option<Predictive> {
        let d = self.dim();
        let count = (particles.len() / d) as f64;
        let (mut correct, mut ll) = (0.0, 0.0);
        for i in 0..self.test.rows() {
            let x = self.test.row(i);
            let p: f64 = particles
                .chunks_exact(d)
                .map(|t| sigmoid(Self::eta(t, x)))
                .sum::<f64>()
                / count;
            let y = self.test.y[i];
            correct += f64::from(u8::from((p > 0.5) == (y > 0.5)));
            ll += if y > 0.5 { p } else { 1.0 - p }.max(1e-300).ln();
        }
        let n = self.test.rows() as f64;
        Some(Predictive {
            accuracy: Some(correct / n),
            log_likelihood: ll / n,
            rmse: None,
        })
    }
}

/// A one-hidden-layer Bayesian neural network for regression:
/// `y ~ N(w2 . tanh(W1 x + b1) + b2, 1 / gamma)` on standardised `x` and `y`, with
/// `N(0, 1)` priors on all weights and a `Gamma(1, 0.1)` prior on the noise precision `gamma`
/// (the prior of the SVGD paper's BNN), sampled as `log gamma` (Jacobian included).
/// Layout of `theta`: `W1` (hidden, features), `b1` (hidden), `w2` (hidden), `b2`, `log gamma`.
#[derive(Clone, Debug)]
pub struct Bnn {
    /// Standardised training split (responses standardised too).
    pub train: Dataset,
    /// Standardised test split (responses standardised with the training statistics).
    pub test: Dataset,
    /// Hidden units.
    pub hidden: usize,
    /// Training mean and std of the response, to report test metrics in the data's units.
    pub y_scale: (f64, f64),
    /// SGLD minibatch size.
    pub batch: usize,
    scratch: Vec<usize>,
}

/// Shape `a` and rate `b` of the Gamma prior on the noise precision.
const GAMMA_PRIOR: (f64, f64) = (1.0, 0.1);

impl Bnn {
    /// The network on a standardised-feature split; standardises the responses here.
    pub fn new(mut train: Dataset, mut test: Dataset, hidden: usize, batch: usize) -> Self {
        let (m, s) = mean_std(train.y.iter().copied());
        for y in train.y.iter_mut().chain(test.y.iter_mut()) {
            *y = (*y - m) / s;
        }
        Bnn {
            train,
            test,
            hidden,
            y_scale: (m, s),
            batch,
            scratch: Vec::new(),
        }
    }

    /// Network output at `x`, writing the hidden activations into `act` (hidden).
    fn forward(&self, theta: &[f64], x: &[f64], act: &mut [f64]) -> f64 {
        let (h, p) = (self.hidden, self.train.features);
        let (w1, rest) = theta.split_at(h * p);
        let (b1, rest) = rest.split_at(h);
        let (w2, rest) = rest.split_at(h);
        let mut out = rest[0];
        for (k, a) in act.iter_mut().enumerate() {
            let z = b1[k]
                + w1[k * p..(k + 1) * p]
                    .iter()
                    .zip(x)
                    .map(|(u, v)| u * v)
                    .sum::<f64>();
            *a = z.tanh();
            out += w2[k] * *a;
        }
        out
    }
}

/// Largest hidden layer the stack buffer of [`Bnn`] supports.
const MAX_HIDDEN: usize = 64;

impl RowModel for Bnn {
    fn train(&self) -> &Dataset {
        &self.train
    }

    fn row(&self, theta: &[f64], i: usize, scale: f64, grad: Option<&mut [f64]>) -> f64 {
        let (h, p) = (self.hidden, self.train.features);
        let mut act = [0.0; MAX_HIDDEN];
        let act = &mut act[..h];
        let x = self.train.row(i);
        let f = self.forward(theta, x, act);
        let log_gamma = theta[theta.len() - 1];
        let gamma = log_gamma.exp();
        let r = self.train.y[i] - f;
        if let Some(g) = grad {
            let df = scale * gamma * r;
            let w2 = &theta[h * p + h..h * p + 2 * h];
            let (gw1, rest) = g.split_at_mut(h * p);
            let (gb1, rest) = rest.split_at_mut(h);
            let (gw2, rest) = rest.split_at_mut(h);
            for k in 0..h {
                let dz = df * w2[k] * (1.0 - act[k] * act[k]);
                gw2[k] += df * act[k];
                gb1[k] += dz;
                gw1[k * p..(k + 1) * p]
                    .iter_mut()
                    .zip(x)
                    .for_each(|(a, v)| *a += dz * v);
            }
            rest[0] += df;
            rest[1] += scale * (0.5 - 0.5 * gamma * r * r);
        }
        0.5 * log_gamma - 0.5 * gamma * r * r - 0.5 * (core::f64::consts::TAU).ln()
    }

    fn prior(&self, theta: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let (weights, log_gamma) = theta.split_at(theta.len() - 1);
        let (a, b) = GAMMA_PRIOR;
        let gamma = log_gamma[0].exp();
        if let Some(g) = grad {
            let (gw, gg) = g.split_at_mut(weights.len());
            gw.iter_mut().zip(weights).for_each(|(v, t)| *v -= t);
            gg[0] += a - b * gamma;
        }
        -0.5 * weights.iter().map(|t| t * t).sum::<f64>() + a * log_gamma[0] - b * gamma
    }

    fn batch(&self) -> usize {
        self.batch
    }

    fn scratch(&mut self) -> &mut Vec<usize> {
        &mut self.scratch
    }
}

row_model_problem!(Bnn);

impl Problem for Bnn {
    fn dim(&self) -> usize {
        self.hidden * (self.train.features + 2) + 2
    }

    fn stochastic_score(
        &mut self,
        x: &[f64],
        out: &mut [f64],
        rng: &mut DefaultRng,
    ) -> Result<(), i32> {
        let dim = self.dim();
        minibatch_score(self, x, dim, out, rng);
        Ok(())
    }

    /// RMSE of the predictive mean and log-likelihood of the predictive mixture
    /// `mean_k N(y; f_k(x), 1 / gamma_k)`, both in the response's original units.
    fn predictive(&self, particles: &[f64]) -> Option<Predictive> {
        let d = self.dim();
        let count = particles.len() / d;
        let mut act = [0.0; MAX_HIDDEN];
        let (mut se, mut ll) = (0.0, 0.0);
        let mut terms = vec![0.0; count];
        for i in 0..self.test.rows() {
            let x = self.test.row(i);
            let y = self.test.y[i];
            let mut mean = 0.0;
            for (t, term) in particles.chunks_exact(d).zip(terms.iter_mut()) {
                let f = self.forward(t, x, &mut act[..self.hidden]);
                let lg = t[d - 1];
                mean += f / count as f64;
                *term = 0.5 * lg - 0.5 * lg.exp() * (y - f) * (y - f);
            }
            let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + terms.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            ll += lse - (count as f64).ln() - 0.5 * (core::f64::consts::TAU).ln();
            se += (y - mean) * (y - mean);
        }
        let n = self.test.rows() as f64;
        let s = self.y_scale.1;
        Some(Predictive {
            accuracy: None,
            log_likelihood: ll / n - s.ln(),
            rmse: Some((se / n).sqrt() * s),
        })
    }
}

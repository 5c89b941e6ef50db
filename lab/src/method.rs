//! The methods the runner compares: ETD configurations and the baselines, one enum.

use crate::baselines::{EtdSampler, Langevin, Mala, ParticleSampler, Svgd};
use crate::registry::TargetSpec;
use entropic_transport::{Config, Coupling, Mutation, Precondition, Shape, Steps};
use serde::{Deserialize, Serialize};

/// A sampling method of the runner; its command-line and JSON name is the kebab-case variant
/// name (`etd-pre-mut`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum Method {
    /// ETD with the kernel's defaults (preconditioned, MALA mutation from d = 3 on).
    Etd,
    /// The transport step alone (`Config::plain()`), the other variants' base.
    EtdPlain,
    /// Score-free ETD (only `log pi`).
    EtdFree,
    /// The unbalanced coupling, `rho = 1`.
    EtdUnbalanced,
    /// The gibbs (semi-relaxed) coupling.
    EtdGibbs,
    /// ETD + [`MUTATION_STEPS`] MALA steps at the target's step.
    EtdMut,
    /// Unbalanced ETD + MALA mutation.
    EtdUnbalancedMut,
    /// ETD preconditioned by the ensemble covariance.
    EtdPre,
    /// Preconditioned ETD + MALA mutation at [`WHITENED_MUTATION_STEP`].
    EtdPreMut,
    /// Stein variational gradient descent.
    Svgd,
    /// Unadjusted Langevin (SGLD on data targets).
    Ula,
    /// MALA on independent chains.
    Mala,
}

/// MALA steps per iteration of ETD's mutation.
pub const MUTATION_STEPS: u32 = 5;
/// Weight of the current ensemble in the preconditioner's running covariance (about ten steps).
pub const PRECONDITION_RATE: f64 = 0.1;
/// The mutation's MALA step in whitened units, the same on every target: whitening gives the
/// target roughly unit scale, where MALA's optimal step is about `1.36 d^(-1/3)` (0.43 at
/// d = 31, 0.37 at d = 50); 0.3 stays below it up to d = 90.
pub const WHITENED_MUTATION_STEP: f64 = 0.3;

impl Method {
    /// Every method, in table order.
    pub const ALL: [Method; 12] = [
        Method::Etd,
        Method::EtdPlain,
        Method::EtdFree,
        Method::EtdUnbalanced,
        Method::EtdGibbs,
        Method::EtdMut,
        Method::EtdUnbalancedMut,
        Method::EtdPre,
        Method::EtdPreMut,
        Method::Svgd,
        Method::Ula,
        Method::Mala,
    ];

    /// The command-line name (`etd-pre-mut`).
    pub fn name(self) -> &'static str {
        match self {
            Method::Etd => "etd",
            Method::EtdPlain => "etd-plain",
            Method::EtdFree => "etd-free",
            Method::EtdUnbalanced => "etd-unbalanced",
            Method::EtdGibbs => "etd-gibbs",
            Method::EtdMut => "etd-mut",
            Method::EtdUnbalancedMut => "etd-unbalanced-mut",
            Method::EtdPre => "etd-pre",
            Method::EtdPreMut => "etd-pre-mut",
            Method::Svgd => "svgd",
            Method::Ula => "ula",
            Method::Mala => "mala",
        }
    }

    /// The method named `name`.
    pub fn parse(name: &str) -> Result<Method, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let known: Vec<_> = Method::ALL.iter().map(|m| m.name()).collect();
                format!("unknown method {name:?}; known: {}", known.join(", "))
            })
    }

    /// Whether this is an ETD configuration (as opposed to a baseline).
    pub fn is_etd(self) -> bool {
        !matches!(self, Method::Svgd | Method::Ula | Method::Mala)
    }

    /// Human-readable name on a target.
    pub fn label(self, spec: &TargetSpec) -> &'static str {
        match self {
            Method::Etd => "ETD (defaults)",
            Method::EtdPlain => "ETD plain (transport step alone)",
            Method::EtdFree => "ETD score-free",
            Method::EtdUnbalanced => "ETD unbalanced (rho 1)",
            Method::EtdGibbs => "ETD gibbs",
            Method::EtdMut => "ETD + MALA mutation (5 steps)",
            Method::EtdUnbalancedMut => "ETD unbalanced (rho 1) + MALA mutation (5 steps)",
            Method::EtdPre => "ETD preconditioned",
            Method::EtdPreMut => "ETD preconditioned + MALA mutation (5 steps, whitened h = 0.3)",
            Method::Svgd => "SVGD",
            Method::Ula if spec.minibatch => "SGLD (batch 32)",
            Method::Ula => "ULA",
            Method::Mala => "MALA (step adapted in first half)",
        }
    }

    /// The ETD configuration of this method on `spec`; `None` for the baselines.
    pub fn config(self, spec: &TargetSpec) -> Option<Config<f64>> {
        let base = Config {
            alpha: spec.etd_alpha,
            ..Config::plain()
        };
        let unbalanced = Coupling::Unbalanced { rho: 1.0 };
        // ETD-SMC: the kernel's MALA mutation after every transport step.
        let mutation = Mutation {
            steps: Steps::Fixed(MUTATION_STEPS),
            step_size: spec.mutation_step,
        };
        let precondition = Precondition::Ensemble {
            rate: PRECONDITION_RATE,
        };
        Some(match self {
            Method::Etd => Config {
                alpha: spec.etd_alpha,
                ..Config::default()
            },
            Method::EtdPlain => base,
            Method::EtdFree => Config {
                use_score: false,
                ..base
            },
            Method::EtdUnbalanced => Config {
                coupling: unbalanced,
                ..base
            },
            Method::EtdGibbs => Config {
                coupling: Coupling::Gibbs,
                ..base
            },
            Method::EtdMut => Config { mutation, ..base },
            Method::EtdUnbalancedMut => Config {
                coupling: unbalanced,
                mutation,
                ..base
            },
            Method::EtdPre => Config {
                precondition,
                ..base
            },
            Method::EtdPreMut => Config {
                precondition,
                mutation: Mutation {
                    steps: Steps::Fixed(MUTATION_STEPS),
                    step_size: WHITENED_MUTATION_STEP,
                },
                ..base
            },
            Method::Svgd | Method::Ula | Method::Mala => return None,
        })
    }

    /// The sampler of this method on `spec`'s target of dimension `dim`, for a run of
    /// `iterations`. MALA adapts its step during the first half (see [`Mala::warm_up`]).
    pub fn sampler(
        self,
        spec: &TargetSpec,
        dim: usize,
        iterations: usize,
    ) -> Result<Box<dyn ParticleSampler>, String> {
        Ok(match self {
            Method::Svgd => Box::new(Svgd::new(spec.svgd_rate, 5.0)),
            Method::Ula => Box::new(Langevin {
                step_size: spec.step_size,
            }),
            Method::Mala => Box::new(Mala {
                step_size: spec.step_size,
                steps: 1,
                warm_up: iterations / 2,
            }),
            etd => {
                let config = etd.config(spec).ok_or("not an ETD method")?;
                let shape = Shape::new(spec.particles, spec.proposals, dim);
                Box::new(EtdSampler::new(shape, config).map_err(|e| e.to_string())?)
            }
        })
    }
}

impl From<Method> for &'static str {
    fn from(method: Method) -> Self {
        method.name()
    }
}

impl TryFrom<String> for Method {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Method::parse(&name)
    }
}

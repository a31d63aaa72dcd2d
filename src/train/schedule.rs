//! Learning-rate schedule: a short linear warm-up, a constant plateau, then a cosine decay to
//! the final rate over the last part of the run.

/// Steps of linear warm-up at the start of a run.
const WARMUP_STEPS: u64 = 500;

/// A learning-rate schedule over a run of `total_steps`.
#[derive(Debug, Clone, Copy)]
pub struct LrSchedule {
    /// Rate on the plateau.
    pub peak: f64,
    /// Rate at the last step.
    pub last: f64,
    /// Length of the run.
    pub total_steps: u64,
    /// Fraction of the run (0..1) after which the rate decays.
    pub decay_from: f64,
}

impl LrSchedule {
    /// The rate for step `step` (0-based).
    pub fn at(&self, step: u64) -> f64 {
        if step < WARMUP_STEPS {
            return self.peak * (step + 1) as f64 / WARMUP_STEPS as f64;
        }
        let decay_start = (self.total_steps as f64 * self.decay_from) as u64;
        if step < decay_start {
            return self.peak;
        }
        let span = self.total_steps.saturating_sub(decay_start).max(1) as f64;
        let t = ((step - decay_start) as f64 / span).min(1.0);
        self.last + (self.peak - self.last) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_holds_then_decays_to_the_last_rate() {
        let s = LrSchedule { peak: 1e-3, last: 1e-5, total_steps: 10_000, decay_from: 0.5 };
        assert!(s.at(0) < s.at(100));
        assert_eq!(s.at(WARMUP_STEPS), 1e-3);
        assert_eq!(s.at(4_999), 1e-3);
        assert!(s.at(7_500) < 1e-3 && s.at(7_500) > 1e-5);
        assert!((s.at(10_000) - 1e-5).abs() < 1e-12);
        assert!((s.at(20_000) - 1e-5).abs() < 1e-12);
    }
}

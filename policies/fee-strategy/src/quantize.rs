//! Fees snap to a geometric grid of 40 steps per decade (≈ 5.9 % apart): neighbouring values
//! differ by more than the host's 5 % hysteresis, so every change the strategy makes is one
//! worth broadcasting, and tiny wobbles never propose a new fee.

const STEPS_PER_DECADE: f64 = 40.0;

pub fn to_grid(ppm: f64) -> u32 {
    if ppm < 1.0 {
        return 0;
    }
    if ppm < 20.0 {
        // Below 20 ppm whole numbers are already coarser than the grid.
        return libm::round(ppm) as u32;
    }
    let step = libm::round(libm::log10(ppm) * STEPS_PER_DECADE);
    libm::round(libm::pow(10.0, step / STEPS_PER_DECADE)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_are_stable_and_spaced() {
        for ppm in [20.0, 57.0, 100.0, 333.0, 1234.0, 2500.0] {
            let snapped = to_grid(ppm);
            assert_eq!(to_grid(f64::from(snapped)), snapped, "{ppm}");
            let relative = (f64::from(snapped) - ppm).abs() / ppm;
            assert!(relative < 0.035, "{ppm} → {snapped}");
        }
        assert_eq!(to_grid(0.4), 0);
        assert_eq!(to_grid(7.4), 7);
        // Adjacent grid points are more than 5 % apart.
        let (a, b) = (to_grid(1000.0), to_grid(1060.0));
        assert!(f64::from(b) / f64::from(a) > 1.05);
    }
}

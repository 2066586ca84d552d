//! Money: integer micro-dollars everywhere (DESIGN §7), rendered with four decimals.

/// An amount in micro-dollars (1 USD = 1,000,000), signed: charges are negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Micros(pub i64);

impl Micros {
    /// What a meeting costs: `duration_ms` × `participants` at `rate` per participant-minute,
    /// rounded half up to the micro-dollar.
    pub fn for_usage(duration_ms: i64, participants: u32, rate: Micros) -> Micros {
        let numerator =
            i128::from(duration_ms.max(0)) * i128::from(participants) * i128::from(rate.0);
        let micros = (numerator + 30_000) / 60_000;
        Micros(micros.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }

    /// Dollars with four decimals, as the seed shows them ("0.0120", "-25.0000"), rounded
    /// half away from zero.
    pub fn render(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = i128::from(self.0).abs();
        let hundredths_of_cents = (magnitude + 50) / 100;
        format!(
            "{sign}{}.{:04}",
            hundredths_of_cents / 10_000,
            hundredths_of_cents % 10_000
        )
    }
}

/// Minutes with two decimals ("30.00"), from milliseconds, rounded half up.
pub fn render_minutes(duration_ms: i64) -> String {
    let hundredths = (i128::from(duration_ms.max(0)) * 100 + 30_000) / 60_000;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_render_with_four_decimals() {
        assert_eq!(Micros(12_000).render(), "0.0120");
        assert_eq!(Micros(25_000_000).render(), "25.0000");
        assert_eq!(Micros(-12_000).render(), "-0.0120");
        assert_eq!(Micros(49).render(), "0.0000");
        assert_eq!(Micros(50).render(), "0.0001");
        assert_eq!(Micros(0).render(), "0.0000");
    }

    #[test]
    fn usage_is_duration_times_participants_times_rate() {
        let rate = Micros(4_000);
        // 30 minutes × 4 participants × $0.004 = $0.48.
        assert_eq!(Micros::for_usage(30 * 60_000, 4, rate), Micros(480_000));
        // 1 second alone: 4000 / 60 = 66.67 micro-dollars, rounded.
        assert_eq!(Micros::for_usage(1_000, 1, rate), Micros(67));
        assert_eq!(Micros::for_usage(0, 10, rate), Micros(0));
        assert_eq!(Micros::for_usage(-5, 10, rate), Micros(0));
    }

    #[test]
    fn minutes_render_with_two_decimals() {
        assert_eq!(render_minutes(30 * 60_000), "30.00");
        assert_eq!(render_minutes(90_000), "1.50");
        assert_eq!(render_minutes(299), "0.00");
        assert_eq!(render_minutes(300), "0.01");
    }
}

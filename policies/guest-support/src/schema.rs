//! Declare each parameter once; get both `describe()`'s schema and typed reads from it.
//!
//! A parameter is a `const` ([`IntParam`], [`FloatParam`], [`BoolParam`], [`TextParam`]) with
//! its name, description, default and bounds. A [`Schema`] lists them for `describe()`; each
//! one reads itself from `ctx.params`:
//!
//! ```
//! use guest_support::schema::{BoolParam, IntParam, Schema};
//!
//! const FEE_PPM: IntParam = IntParam::new("fee-ppm", "Fee for every channel, ppm.", 100)
//!     .range(0, 100_000);
//! const DRY_RUN: BoolParam = BoolParam::new("dry-run", "Propose nothing.", false);
//! const SCHEMA: Schema = Schema::new(&[&FEE_PPM, &DRY_RUN]);
//!
//! // describe():      params: SCHEMA.specs(),
//! let specs = SCHEMA.specs();
//! assert_eq!(specs[0].name, "fee-ppm");
//! assert_eq!(specs[0].max, Some(100_000.0));
//! // propose-*(ctx):  let fee_ppm = FEE_PPM.get_u32(&ctx.params);
//! assert_eq!(FEE_PPM.get_u32(&[]), 100, "the default when absent");
//! assert!(SCHEMA.check().is_ok());
//! ```
//!
//! Reads never fail. The host has already validated every value against the schema and filled
//! in defaults, so a missing or mistyped value means policy and schema disagree: the read falls
//! back to the declared default. Numbers are clamped into the declared bounds (and, for the
//! `get_u32`-style reads, into the target type), so a policy never sees a value its own schema
//! rules out.

use alloc::{format, string::String, vec::Vec};

use crate::types::{Param, ParamKind, ParamSpec, ParamValue};

fn find<'a>(params: &'a [Param], name: &str) -> Option<&'a ParamValue> {
    params.iter().find(|p| p.name == name).map(|p| &p.value)
}

/// Anything a [`Schema`] can list: the parameter kinds of this module.
pub trait Declare {
    fn name(&self) -> &'static str;
    /// The entry `describe()` reports.
    fn spec(&self) -> ParamSpec;
    /// Whether the declaration is self-consistent (bounds ordered, default inside them).
    fn check(&self) -> Result<(), String>;
}

/// An integer parameter (`s64` on the wire), optionally bounded (inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntParam {
    pub name: &'static str,
    pub description: &'static str,
    pub default: i64,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl IntParam {
    /// Unbounded; add bounds with [`range`](Self::range), [`min`](Self::min) or [`max`](Self::max).
    pub const fn new(name: &'static str, description: &'static str, default: i64) -> Self {
        Self {
            name,
            description,
            default,
            min: None,
            max: None,
        }
    }

    /// Inclusive bounds `min..=max`.
    pub const fn range(self, min: i64, max: i64) -> Self {
        self.min(min).max(max)
    }

    pub const fn min(mut self, min: i64) -> Self {
        self.min = Some(min);
        self
    }

    pub const fn max(mut self, max: i64) -> Self {
        self.max = Some(max);
        self
    }

    /// The value from `params` (the default if absent or not an integer), clamped into bounds.
    pub fn get(&self, params: &[Param]) -> i64 {
        let value = match find(params, self.name) {
            Some(ParamValue::Integer(v)) => *v,
            _ => self.default,
        };
        value.clamp(
            self.min.unwrap_or(i64::MIN),
            self.max
                .unwrap_or(i64::MAX)
                .max(self.min.unwrap_or(i64::MIN)),
        )
    }

    /// [`get`](Self::get), clamped into `u32` (negative → 0): ppm, base fees.
    pub fn get_u32(&self, params: &[Param]) -> u32 {
        self.get(params).clamp(0, i64::from(u32::MAX)) as u32
    }

    /// [`get`](Self::get), clamped into `u64` (negative → 0): amounts, counts.
    pub fn get_u64(&self, params: &[Param]) -> u64 {
        self.get(params).max(0) as u64
    }

    /// [`get`](Self::get), clamped into `usize` (negative → 0): counts and limits.
    pub fn get_usize(&self, params: &[Param]) -> usize {
        usize::try_from(self.get(params).max(0)).unwrap_or(usize::MAX)
    }
}

impl Declare for IntParam {
    fn name(&self) -> &'static str {
        self.name
    }

    fn spec(&self) -> ParamSpec {
        ParamSpec {
            name: self.name.into(),
            description: self.description.into(),
            kind: ParamKind::Integer,
            default: ParamValue::Integer(self.default),
            min: self.min.map(|v| v as f64),
            max: self.max.map(|v| v as f64),
        }
    }

    fn check(&self) -> Result<(), String> {
        let (min, max) = (self.min.unwrap_or(i64::MIN), self.max.unwrap_or(i64::MAX));
        if min > max {
            return Err(format!("{}: min {min} is above max {max}", self.name));
        }
        if !(min..=max).contains(&self.default) {
            return Err(format!(
                "{}: default {} is outside {min}..={max}",
                self.name, self.default
            ));
        }
        Ok(())
    }
}

/// A float parameter: ratios, shapes, strengths — never money.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloatParam {
    pub name: &'static str,
    pub description: &'static str,
    pub default: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl FloatParam {
    pub const fn new(name: &'static str, description: &'static str, default: f64) -> Self {
        Self {
            name,
            description,
            default,
            min: None,
            max: None,
        }
    }

    pub const fn range(self, min: f64, max: f64) -> Self {
        self.min(min).max(max)
    }

    pub const fn min(mut self, min: f64) -> Self {
        self.min = Some(min);
        self
    }

    pub const fn max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// The value from `params` (an integer value is accepted; the default if absent, mistyped
    /// or not finite), clamped into bounds.
    pub fn get(&self, params: &[Param]) -> f64 {
        let value = match find(params, self.name) {
            Some(ParamValue::Float(v)) if v.is_finite() => *v,
            Some(ParamValue::Integer(v)) => *v as f64,
            _ => self.default,
        };
        let value = self.min.map_or(value, |min| value.max(min));
        self.max.map_or(value, |max| value.min(max))
    }
}

impl Declare for FloatParam {
    fn name(&self) -> &'static str {
        self.name
    }

    fn spec(&self) -> ParamSpec {
        ParamSpec {
            name: self.name.into(),
            description: self.description.into(),
            kind: ParamKind::Float,
            default: ParamValue::Float(self.default),
            min: self.min,
            max: self.max,
        }
    }

    fn check(&self) -> Result<(), String> {
        let bounds = [self.min, self.max];
        if !self.default.is_finite() || bounds.iter().flatten().any(|b| !b.is_finite()) {
            return Err(format!("{}: default and bounds must be finite", self.name));
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return Err(format!("{}: min {min} is above max {max}", self.name));
        }
        if self.min.is_some_and(|min| self.default < min)
            || self.max.is_some_and(|max| self.default > max)
        {
            return Err(format!(
                "{}: default {} is out of bounds",
                self.name, self.default
            ));
        }
        Ok(())
    }
}

/// A boolean switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoolParam {
    pub name: &'static str,
    pub description: &'static str,
    pub default: bool,
}

impl BoolParam {
    pub const fn new(name: &'static str, description: &'static str, default: bool) -> Self {
        Self {
            name,
            description,
            default,
        }
    }

    pub fn get(&self, params: &[Param]) -> bool {
        match find(params, self.name) {
            Some(ParamValue::Boolean(v)) => *v,
            _ => self.default,
        }
    }
}

impl Declare for BoolParam {
    fn name(&self) -> &'static str {
        self.name
    }

    fn spec(&self) -> ParamSpec {
        ParamSpec {
            name: self.name.into(),
            description: self.description.into(),
            kind: ParamKind::Boolean,
            default: ParamValue::Boolean(self.default),
            min: None,
            max: None,
        }
    }

    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A text parameter (a mode name, a label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextParam {
    pub name: &'static str,
    pub description: &'static str,
    pub default: &'static str,
}

impl TextParam {
    pub const fn new(name: &'static str, description: &'static str, default: &'static str) -> Self {
        Self {
            name,
            description,
            default,
        }
    }

    pub fn get<'a>(&self, params: &'a [Param]) -> &'a str {
        match find(params, self.name) {
            Some(ParamValue::Text(v)) => v.as_str(),
            _ => self.default,
        }
    }
}

impl Declare for TextParam {
    fn name(&self) -> &'static str {
        self.name
    }

    fn spec(&self) -> ParamSpec {
        ParamSpec {
            name: self.name.into(),
            description: self.description.into(),
            kind: ParamKind::Text,
            default: ParamValue::Text(self.default.into()),
            min: None,
            max: None,
        }
    }

    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A policy's parameters in `describe()` order.
#[derive(Clone, Copy)]
pub struct Schema(&'static [&'static dyn Declare]);

impl Schema {
    pub const fn new(params: &'static [&'static dyn Declare]) -> Self {
        Self(params)
    }

    /// What `describe()` returns as `params`.
    pub fn specs(&self) -> Vec<ParamSpec> {
        self.0.iter().map(|p| p.spec()).collect()
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|p| p.name())
    }

    /// Every declaration self-consistent and every name unique and non-empty. Cheap enough to
    /// call from a test, or from `describe()` under `debug_assert!`.
    pub fn check(&self) -> Result<(), String> {
        for (i, param) in self.0.iter().enumerate() {
            let name = param.name();
            if name.is_empty() {
                return Err(format!("parameter {i} has no name"));
            }
            if self.0[..i].iter().any(|p| p.name() == name) {
                return Err(format!("parameter {name} is declared twice"));
            }
            param.check()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{string::ToString, vec};

    const COUNT: IntParam = IntParam::new("count", "How many.", 3).range(1, 10);
    const LOOSE: IntParam = IntParam::new("loose", "Unbounded.", -5);
    const RATIO: FloatParam = FloatParam::new("ratio", "A shape.", 1.5).range(0.25, 4.0);
    const SWITCH: BoolParam = BoolParam::new("switch", "On or off.", true);
    const MODE: TextParam = TextParam::new("mode", "Which one.", "auto");
    const SCHEMA: Schema = Schema::new(&[&COUNT, &LOOSE, &RATIO, &SWITCH, &MODE]);

    fn param(name: &str, value: ParamValue) -> Param {
        Param {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn specs_describe_every_declaration_in_order() {
        let specs = SCHEMA.specs();
        assert_eq!(
            specs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["count", "loose", "ratio", "switch", "mode"]
        );
        let count = &specs[0];
        assert_eq!(count.description, "How many.");
        assert!(matches!(count.kind, ParamKind::Integer));
        assert!(matches!(count.default, ParamValue::Integer(3)));
        assert_eq!((count.min, count.max), (Some(1.0), Some(10.0)));
        assert_eq!((specs[1].min, specs[1].max), (None, None));
        assert!(matches!(specs[2].kind, ParamKind::Float));
        assert!(matches!(specs[2].default, ParamValue::Float(v) if v == 1.5));
        assert_eq!((specs[2].min, specs[2].max), (Some(0.25), Some(4.0)));
        assert!(matches!(specs[3].default, ParamValue::Boolean(true)));
        assert!(matches!(&specs[4].default, ParamValue::Text(t) if t == "auto"));
        assert_eq!(SCHEMA.names().count(), 5);
    }

    #[test]
    fn reads_fall_back_to_defaults() {
        assert_eq!(COUNT.get(&[]), 3);
        assert_eq!(LOOSE.get(&[]), -5);
        assert_eq!(RATIO.get(&[]), 1.5);
        assert!(SWITCH.get(&[]));
        assert_eq!(MODE.get(&[]), "auto");
        // Mistyped values are the schema disagreeing with the policy: use the default.
        let wrong = vec![
            param("count", ParamValue::Text("7".into())),
            param("switch", ParamValue::Integer(0)),
            param("ratio", ParamValue::Float(f64::NAN)),
            param("mode", ParamValue::Boolean(false)),
        ];
        assert_eq!(COUNT.get(&wrong), 3);
        assert!(SWITCH.get(&wrong));
        assert_eq!(RATIO.get(&wrong), 1.5);
        assert_eq!(MODE.get(&wrong), "auto");
    }

    #[test]
    fn reads_take_the_value_clamped_into_bounds() {
        let params = vec![
            param("count", ParamValue::Integer(7)),
            param("loose", ParamValue::Integer(i64::MIN)),
            param("ratio", ParamValue::Integer(2)),
            param("switch", ParamValue::Boolean(false)),
            param("mode", ParamValue::Text("manual".into())),
        ];
        assert_eq!(COUNT.get(&params), 7);
        assert_eq!(LOOSE.get(&params), i64::MIN);
        assert_eq!(LOOSE.get_u32(&params), 0);
        assert_eq!(LOOSE.get_u64(&params), 0);
        assert_eq!(RATIO.get(&params), 2.0, "an integer is accepted as a float");
        assert!(!SWITCH.get(&params));
        assert_eq!(MODE.get(&params), "manual");
        let out_of_range = vec![
            param("count", ParamValue::Integer(99)),
            param("ratio", ParamValue::Float(0.0)),
            param("loose", ParamValue::Integer(i64::MAX)),
        ];
        assert_eq!(COUNT.get(&out_of_range), 10);
        assert_eq!(COUNT.get_usize(&out_of_range), 10);
        assert_eq!(RATIO.get(&out_of_range), 0.25);
        assert_eq!(LOOSE.get_u32(&out_of_range), u32::MAX);
        assert_eq!(LOOSE.get_u64(&out_of_range), i64::MAX as u64);
        let below = vec![param("count", ParamValue::Integer(-4))];
        assert_eq!(COUNT.get(&below), 1);
    }

    #[test]
    fn check_catches_inconsistent_declarations() {
        assert_eq!(SCHEMA.check(), Ok(()));
        const OUTSIDE: IntParam = IntParam::new("outside", "", 11).range(1, 10);
        const BACKWARDS: IntParam = IntParam::new("backwards", "", 5).range(10, 1);
        const NAN: FloatParam = FloatParam::new("nan", "", f64::NAN);
        const FLOAT_OUTSIDE: FloatParam = FloatParam::new("fo", "", 5.0).max(4.0);
        const NAMELESS: BoolParam = BoolParam::new("", "", true);
        for (schema, wanted) in [
            (
                Schema::new(&[&OUTSIDE]),
                "outside: default 11 is outside 1..=10",
            ),
            (
                Schema::new(&[&BACKWARDS]),
                "backwards: min 10 is above max 1",
            ),
            (
                Schema::new(&[&NAN]),
                "nan: default and bounds must be finite",
            ),
            (
                Schema::new(&[&FLOAT_OUTSIDE]),
                "fo: default 5 is out of bounds",
            ),
            (Schema::new(&[&NAMELESS]), "parameter 0 has no name"),
            (
                Schema::new(&[&COUNT, &SWITCH, &COUNT]),
                "parameter count is declared twice",
            ),
        ] {
            assert_eq!(schema.check(), Err(wanted.to_string()));
        }
        // A backwards range still reads something inside `min`, never panics.
        assert_eq!(BACKWARDS.get(&[]), 10);
    }
}

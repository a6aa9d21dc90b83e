//! Typed reads of the resolved parameters the host passes in `context.params`.
//!
//! The host has already validated every value against the schema from `describe`, so a
//! missing or mistyped parameter means the policy and its schema disagree: the reader falls
//! back to the caller's default rather than failing the cycle.

use crate::types::{Param, ParamValue};

pub struct Params<'a>(pub &'a [Param]);

impl<'a> Params<'a> {
    fn find(&self, name: &str) -> Option<&'a ParamValue> {
        self.0.iter().find(|p| p.name == name).map(|p| &p.value)
    }

    pub fn integer(&self, name: &str, default: i64) -> i64 {
        match self.find(name) {
            Some(ParamValue::Integer(v)) => *v,
            _ => default,
        }
    }

    pub fn float(&self, name: &str, default: f64) -> f64 {
        match self.find(name) {
            Some(ParamValue::Float(v)) => *v,
            Some(ParamValue::Integer(v)) => *v as f64,
            _ => default,
        }
    }

    pub fn boolean(&self, name: &str, default: bool) -> bool {
        match self.find(name) {
            Some(ParamValue::Boolean(v)) => *v,
            _ => default,
        }
    }

    pub fn text(&self, name: &str) -> Option<&'a str> {
        match self.find(name) {
            Some(ParamValue::Text(v)) => Some(v.as_str()),
            _ => None,
        }
    }

    /// An integer parameter clamped into `u32` (fees, base fees).
    pub fn u32(&self, name: &str, default: u32) -> u32 {
        self.integer(name, i64::from(default))
            .clamp(0, i64::from(u32::MAX)) as u32
    }
}

//! Which channels an event applies to: one (`channel = 3`), a list (`channels = [1, 4]`), the
//! channels carrying a tag (`tag = "sink"`, from each channel's `tags = [...]`), or all of them
//! (`all = true`). Exactly one of these per event.

use super::scenario::ChannelSpec;

#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub channel: Option<usize>,
    pub channels: &'a [usize],
    pub tag: Option<&'a str>,
    pub all: bool,
}

impl Scope<'_> {
    /// Whether channel `index` (with `spec`) is in scope. Indexes past the channels of a run
    /// (a run with fewer channels than the scenario names) simply match nothing.
    pub fn includes(&self, index: usize, spec: &ChannelSpec) -> bool {
        self.all
            || self.channel == Some(index)
            || self.channels.contains(&index)
            || self
                .tag
                .is_some_and(|tag| spec.tags.iter().any(|t| t == tag))
    }

    /// The indexes in scope among `specs`.
    pub fn resolve(&self, specs: &[ChannelSpec]) -> Vec<usize> {
        specs
            .iter()
            .enumerate()
            .filter(|(index, spec)| self.includes(*index, spec))
            .map(|(index, _)| index)
            .collect()
    }

    /// Exactly one way of naming channels, every index below `channel_count`, and a tag that
    /// some listed channel carries.
    pub fn check(&self, channel_count: usize, listed: &[ChannelSpec]) -> Result<(), String> {
        let ways = usize::from(self.channel.is_some())
            + usize::from(!self.channels.is_empty())
            + usize::from(self.tag.is_some())
            + usize::from(self.all);
        if ways != 1 {
            return Err(
                "an event names its channels exactly one way: channel, channels, tag or all = true"
                    .into(),
            );
        }
        if let Some(&bad) = self
            .channel
            .iter()
            .chain(self.channels)
            .find(|&&c| c >= channel_count)
        {
            return Err(format!(
                "event names channel {bad}, but there are {channel_count}"
            ));
        }
        if let Some(tag) = self.tag
            && !listed.iter().any(|c| c.tags.iter().any(|t| t == tag))
        {
            return Err(format!("event names tag {tag:?}, which no channel carries"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Scenario;

    #[test]
    fn one_list_tag_or_all() {
        let scenario = Scenario::builtin("default").unwrap();
        let mut specs = scenario.channel_specs(Some(6));
        specs[2].tags = vec!["sink".into()];
        specs[4].tags = vec!["sink".into(), "big".into()];
        let scope = |channel, channels: &'static [usize], tag, all| Scope {
            channel,
            channels,
            tag,
            all,
        };
        assert_eq!(scope(Some(1), &[], None, false).resolve(&specs), [1]);
        assert_eq!(scope(None, &[0, 5, 9], None, false).resolve(&specs), [0, 5]);
        assert_eq!(
            scope(None, &[], Some("sink"), false).resolve(&specs),
            [2, 4]
        );
        assert_eq!(scope(None, &[], None, true).resolve(&specs).len(), 6);

        assert!(
            scope(None, &[], Some("sink"), false)
                .check(6, &specs)
                .is_ok()
        );
        assert!(
            scope(None, &[], Some("nope"), false)
                .check(6, &specs)
                .is_err()
        );
        assert!(scope(None, &[], None, false).check(6, &specs).is_err());
        assert!(scope(Some(1), &[2], None, false).check(6, &specs).is_err());
        assert!(scope(None, &[1, 7], None, false).check(6, &specs).is_err());
    }
}

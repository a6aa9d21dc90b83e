//! CLBOSS's FeeModderByPriceTheory: a card game over price levels, pure.
//!
//! A level `p` multiplies the fee by 1.2^p (p > 0) or 0.8^−p (p < 0). A round deals five cards,
//! the centre level and the two levels either side, shuffled. The top card is played: its level
//! prices the channel while it earns, for a lifetime counted only while the peer is connected
//! (two days by default). When the deck is empty, the discarded card that earned most becomes
//! the new centre — unless every card earned nothing, when the centre stays — and a new round
//! is dealt. Shuffling keeps a periodic demand pattern from locking onto one card.

use alloc::vec::Vec;
use guest_support::{
    rng::Rng,
    state::{Reader, Writer},
};

/// How far either side of the centre a round explores.
const MAX_STEP: i32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Deck,
    InPlay,
    Discarded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Card {
    pub level: i32,
    pub place: Place,
    /// Connected seconds left while in play.
    pub lifetime_secs: u64,
    pub earned_msat: u64,
}

/// One channel's game. The deck order is the order of `cards`: the first card in the deck is
/// the top.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Game {
    pub centre: i32,
    pub cards: Vec<Card>,
}

/// The fee multiplier of a level.
pub fn multiplier(level: i32) -> f64 {
    match level {
        0 => 1.0,
        p if p > 0 => libm::pow(1.2, f64::from(p)),
        p => libm::pow(0.8, f64::from(-p)),
    }
}

impl Game {
    /// The level priced now, drawing (and dealing a new round) when no card is in play.
    pub fn level(&mut self, lifetime_secs: u64, rng: &mut Rng) -> i32 {
        if let Some(card) = self.in_play() {
            return card.level;
        }
        if !self.cards.iter().any(|c| c.place == Place::Deck) {
            self.end_round(lifetime_secs, rng);
        }
        let top = self
            .cards
            .iter_mut()
            .find(|c| c.place == Place::Deck)
            .expect("a new round has cards in the deck");
        top.place = Place::InPlay;
        top.level
    }

    /// Books what happened since the last call: `connected_secs` off the card in play's
    /// lifetime (discarding it when spent) and `earned_msat` on it.
    pub fn advance(&mut self, connected_secs: u64, earned_msat: u64) {
        if let Some(card) = self.cards.iter_mut().find(|c| c.place == Place::InPlay) {
            card.earned_msat = card.earned_msat.saturating_add(earned_msat);
            card.lifetime_secs = card.lifetime_secs.saturating_sub(connected_secs);
            if card.lifetime_secs == 0 {
                card.place = Place::Discarded;
            }
        }
    }

    fn in_play(&self) -> Option<&Card> {
        self.cards.iter().find(|c| c.place == Place::InPlay)
    }

    /// The best discarded card becomes the centre (the first one on a tie; the centre stays when
    /// none earned anything), then a fresh shuffled deck around it.
    fn end_round(&mut self, lifetime_secs: u64, rng: &mut Rng) {
        let best = self
            .cards
            .iter()
            .filter(|c| c.place == Place::Discarded)
            .fold(None::<&Card>, |best, c| match best {
                Some(b) if b.earned_msat >= c.earned_msat => Some(b),
                _ => Some(c),
            });
        match best {
            // Never played (a fresh game): CLBOSS's initial level.
            None => self.centre = 0,
            Some(best) if best.earned_msat > 0 => self.centre = best.level,
            Some(_) => {}
        }
        let mut levels: Vec<i32> = (-MAX_STEP..=MAX_STEP).map(|d| self.centre + d).collect();
        rng.shuffle(&mut levels);
        self.cards = levels
            .into_iter()
            .map(|level| Card {
                level,
                place: Place::Deck,
                lifetime_secs,
                earned_msat: 0,
            })
            .collect();
    }

    pub fn write(&self, w: &mut Writer) {
        w.i32(self.centre).len(self.cards.len());
        for card in &self.cards {
            let place = match card.place {
                Place::Deck => 0,
                Place::InPlay => 1,
                Place::Discarded => 2,
            };
            w.i32(card.level)
                .u8(place)
                .u64(card.lifetime_secs)
                .u64(card.earned_msat);
        }
    }

    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        let centre = r.i32()?;
        let count = r.len(21)?;
        let mut cards = Vec::with_capacity(count);
        for _ in 0..count {
            let level = r.i32()?;
            let place = match r.u8()? {
                0 => Place::Deck,
                1 => Place::InPlay,
                2 => Place::Discarded,
                _ => return None,
            };
            cards.push(Card {
                level,
                place,
                lifetime_secs: r.u64()?,
                earned_msat: r.u64()?,
            });
        }
        Some(Self { centre, cards })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    #[test]
    fn levels_multiply_by_1_2_up_and_0_8_down() {
        assert_eq!(multiplier(0), 1.0);
        assert!((multiplier(2) - 1.44).abs() < 1e-12);
        assert!((multiplier(-2) - 0.64).abs() < 1e-12);
    }

    #[test]
    fn a_round_plays_five_shuffled_levels_around_the_centre() {
        let mut game = Game::default();
        let mut rng = Rng::new(4);
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(game.level(2 * DAY, &mut rng));
            game.advance(2 * DAY, 0);
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [-2, -1, 0, 1, 2], "each level once: {seen:?}");
    }

    #[test]
    fn a_card_stays_in_play_until_its_connected_lifetime_is_spent() {
        let mut game = Game::default();
        let mut rng = Rng::new(9);
        let first = game.level(2 * DAY, &mut rng);
        game.advance(DAY, 5);
        assert_eq!(game.level(2 * DAY, &mut rng), first, "half its life left");
        game.advance(DAY, 5);
        assert_eq!(
            game.cards
                .iter()
                .filter(|c| c.place == Place::Discarded)
                .count(),
            1
        );
        assert_eq!(
            game.cards
                .iter()
                .find(|c| c.level == first)
                .unwrap()
                .earned_msat,
            10
        );
    }

    #[test]
    fn the_best_earner_becomes_the_centre_and_nothing_earned_keeps_it() {
        let mut rng = Rng::new(2);
        let mut game = Game::default();
        for _ in 0..5 {
            let level = game.level(DAY, &mut rng);
            game.advance(DAY, if level == 2 { 1_000 } else { 10 });
        }
        game.level(DAY, &mut rng);
        assert_eq!(game.centre, 2, "level +2 earned most");
        let levels: Vec<i32> = game.cards.iter().map(|c| c.level).collect();
        assert!(levels.iter().all(|l| (0..=4).contains(l)), "{levels:?}");

        let discarded = |level| Card {
            level,
            place: Place::Discarded,
            lifetime_secs: 0,
            earned_msat: 0,
        };
        let mut idle = Game {
            centre: -1,
            cards: (-3..=1).map(discarded).collect(),
        };
        idle.level(DAY, &mut rng);
        assert_eq!(idle.centre, -1, "a round that earned nothing moves nothing");
    }

    #[test]
    fn the_game_round_trips_through_its_codec() {
        let mut game = Game::default();
        game.level(DAY, &mut Rng::new(1));
        game.advance(10, 77);
        let mut w = Writer::new(1);
        game.write(&mut w);
        let blob = w.finish();
        let mut r = Reader::new(&blob[1..]);
        assert_eq!(Game::read(&mut r), Some(game));
        assert!(r.is_empty());
    }
}

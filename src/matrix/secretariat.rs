//! Who is of the secretariat: a user listed in `matrix.admins`, or a joined member of the
//! management room whose power level there is at least `matrix.secretariat_power_level` —
//! counting the room's creators in room versions where creators outrank every power level
//! (version 12 and later, the default of Synapse 1.163: the `m.room.create` event's sender and
//! its `additional_creators`, who have no entry in `m.room.power_levels`).
//!
//! [`judge`] is the pure rule. The bot reads the power levels and the creators from its
//! client's state store, which the sync keeps current from the room's `m.room.power_levels`
//! and `m.room.create` events (ruma's `RoomPowerLevels::for_user` gives creators of such
//! rooms an infinite level), so a promotion or a demotion counts from the next sync on and
//! there is no cache to go stale. A refusal says why ([`Standing::why_not`]).

use matrix_sdk::ruma::UserId;
use matrix_sdk::ruma::events::room::power_levels::{RoomPowerLevels, UserPowerLevel};

/// A user's standing towards the secretariat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Listed in `matrix.admins`.
    Admin,
    /// A creator of the management room (room version 12 and later).
    Creator,
    /// This power level in the management room, at or above the threshold.
    Level(i64),
    /// Not of the secretariat, and why.
    Not(String),
}

impl Standing {
    pub fn is_secretariat(&self) -> bool {
        !matches!(self, Standing::Not(_))
    }

    /// Why not, for a refusal; `None` for a member of the secretariat.
    pub fn why_not(&self) -> Option<&str> {
        match self {
            Standing::Not(why) => Some(why),
            _ => None,
        }
    }
}

/// What the bot knows of the management room for one user.
pub struct RoomView<'a> {
    pub levels: &'a RoomPowerLevels,
    /// The user is a joined member of the room.
    pub joined: bool,
}

/// The standing of `user`, given `matrix.admins`, `matrix.secretariat_power_level` and the
/// management room as the bot knows it (`None`: not known yet).
pub fn judge(
    user: &UserId,
    admins: &[String],
    threshold: i64,
    room: Option<RoomView<'_>>,
) -> Standing {
    if admins.iter().any(|a| a == user.as_str()) {
        return Standing::Admin;
    }
    let Some(room) = room else {
        return Standing::Not(
            "not in matrix.admins, and the management room's power levels are not known yet".into(),
        );
    };
    if !room.joined {
        return Standing::Not("not in matrix.admins, nor a member of the management room".into());
    }
    match room.levels.for_user(user) {
        UserPowerLevel::Infinite => Standing::Creator,
        UserPowerLevel::Int(level) => {
            let level = i64::from(level);
            if level >= threshold {
                Standing::Level(level)
            } else {
                Standing::Not(format!(
                    "not in matrix.admins, and power level {level} in the management room is \
                     below {threshold} (matrix.secretariat_power_level)"
                ))
            }
        }
        // A future kind of level: not one we know to be high enough.
        _ => Standing::Not("not in matrix.admins, and an unknown kind of power level".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::events::room::power_levels::{
        RoomPowerLevelsEventContent, RoomPowerLevelsSource,
    };
    use matrix_sdk::ruma::room_version_rules::AuthorizationRules;
    use matrix_sdk::ruma::{OwnedUserId, int, user_id};

    fn levels(rules: &AuthorizationRules, creators: &[OwnedUserId]) -> RoomPowerLevels {
        let mut content = RoomPowerLevelsEventContent::new(rules);
        content
            .users
            .insert(user_id!("@mod:x").to_owned(), int!(50));
        content
            .users
            .insert(user_id!("@admin:x").to_owned(), int!(100));
        RoomPowerLevels::new(
            RoomPowerLevelsSource::Original(content),
            rules,
            creators.iter().cloned(),
        )
    }

    #[test]
    fn admins_levels_and_version_12_creators() {
        let creator = user_id!("@creator:x").to_owned();
        let extra = user_id!("@second:x").to_owned();
        let v12 = levels(&AuthorizationRules::V12, &[creator.clone(), extra.clone()]);
        let view = |joined| {
            Some(RoomView {
                levels: &v12,
                joined,
            })
        };
        let admins = vec!["@listed:x".to_string()];
        let judge100 = |u: &UserId, joined| judge(u, &admins, 100, view(joined));
        assert_eq!(judge100(user_id!("@listed:x"), false), Standing::Admin);
        // Creators have no power-level entry in version 12, yet outrank everyone.
        assert_eq!(judge100(&creator, true), Standing::Creator);
        assert_eq!(judge100(&extra, true), Standing::Creator);
        assert_eq!(judge100(user_id!("@admin:x"), true), Standing::Level(100));
        let moderator = judge100(user_id!("@mod:x"), true);
        assert!(!moderator.is_secretariat());
        assert!(
            moderator.why_not().unwrap().contains("power level 50")
                && moderator.why_not().unwrap().contains("below 100"),
            "{moderator:?}"
        );
        assert_eq!(
            judge(user_id!("@mod:x"), &admins, 50, view(true)),
            Standing::Level(50)
        );
        // Not a member of the room: no standing from its power levels.
        assert!(!judge100(&creator, false).is_secretariat());
        assert!(!judge100(user_id!("@someone:x"), true).is_secretariat());
        assert!(!judge(user_id!("@creator:x"), &admins, 100, None).is_secretariat());
    }

    #[test]
    fn before_version_12_a_creator_is_only_its_power_level() {
        let creator = user_id!("@creator:x").to_owned();
        let v11 = levels(&AuthorizationRules::V11, std::slice::from_ref(&creator));
        let room = Some(RoomView {
            levels: &v11,
            joined: true,
        });
        // In older rooms the creator's power comes from its entry, which this one lacks.
        assert!(!judge(&creator, &[], 100, room).is_secretariat());
    }
}

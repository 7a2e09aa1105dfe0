//! Room roles kept in the room record: up to [`MAX_ASSISTANTS`] assistants
//! (each with a display nickname) and one sub-anchor. Changes are a
//! read-modify-write of the room (`Store::update_room`), so two nodes cannot
//! both take the last assistant slot, and every node sees the new roles on
//! the next request.

use protocol::{ErrorCode, Rejection, Role};
use serde::{Deserialize, Serialize};

use super::Actor;
use super::audit;
use crate::auth::{Action, authorize};
use crate::room::Room;
use crate::service::Node;

/// Most assistants per room *(platform)*.
pub const MAX_ASSISTANTS: usize = 10;

/// An assistant (小助手) and the nickname shown on their comments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assistant {
    /// User id.
    pub user: String,
    /// Display nickname.
    pub nick: String,
}

/// Block or mask comments that hit the sensitive-word filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WordPolicy {
    /// Reject with `filtered`, naming the category.
    #[default]
    Block,
    /// Deliver with every matched character replaced by `*`.
    Mask,
}

/// The word filter's detectors in one room, set through
/// `PATCH /api/rooms/{id}` (`"filter": {...}`). Both are off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilterSettings {
    /// Digit-run detector: a run of at least this many digits (noise between
    /// them skipped; prices, dates and labelled order numbers excepted) is
    /// reported as `contact`. 0: off; otherwise
    /// [`MIN_DIGIT_RUN`]..=[`MAX_DIGIT_RUN`].
    pub digit_runs: u32,
    /// URL detector: URLs and domain-like tokens are reported as `url`.
    pub urls: bool,
}

/// Smallest digit-run threshold a room may set.
pub const MIN_DIGIT_RUN: u32 = 4;
/// Largest digit-run threshold a room may set.
pub const MAX_DIGIT_RUN: u32 = 32;

impl FilterSettings {
    /// The library policy for the room's action.
    pub fn policy(&self, action: WordPolicy) -> wordfilter::Policy {
        let mut p = match action {
            WordPolicy::Block => wordfilter::Policy::block(),
            WordPolicy::Mask => wordfilter::Policy::mask(),
        };
        if self.digit_runs > 0 {
            p = p.with_digit_runs(self.digit_runs as usize);
        }
        if self.urls {
            p = p.with_urls();
        }
        p
    }

    /// Whether a detector is on (the filter runs even without words).
    pub fn any(&self) -> bool {
        self.digit_runs > 0 || self.urls
    }
}

/// The moderation part of a room record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoomModeration {
    /// The sub-anchor's user id (主播副号), at most one.
    pub sub_anchor: Option<String>,
    /// Assistants, at most [`MAX_ASSISTANTS`].
    pub assistants: Vec<Assistant>,
    /// Slow mode: seconds between two comments of one viewer (0: off).
    pub slow_mode_s: u32,
    /// What the word filter does with a hit.
    pub word_policy: WordPolicy,
    /// The word filter's detectors.
    pub filter: FilterSettings,
}

impl RoomModeration {
    /// The stored role of a signed-in user who is not the anchor.
    pub fn role_of(&self, user: &str) -> Role {
        if self.sub_anchor.as_deref() == Some(user) {
            Role::SubAnchor
        } else if self.assistants.iter().any(|a| a.user == user) {
            Role::Assistant
        } else {
            Role::Viewer
        }
    }

    /// An assistant's display nickname.
    pub fn assistant_nick(&self, user: &str) -> Option<&str> {
        self.assistants
            .iter()
            .find(|a| a.user == user)
            .map(|a| a.nick.as_str())
    }

    /// Gives `user` the role `role` (`Viewer` removes any role).
    pub fn assign(
        &mut self,
        anchor: &str,
        user: &str,
        role: Role,
        nick: Option<&str>,
    ) -> Result<(), Rejection> {
        if user == anchor {
            return Err(Rejection::new(
                ErrorCode::Invalid,
                "the anchor has no other role",
            ));
        }
        self.assistants.retain(|a| a.user != user);
        if self.sub_anchor.as_deref() == Some(user) {
            self.sub_anchor = None;
        }
        match role {
            Role::Viewer => Ok(()),
            Role::Assistant => {
                if self.assistants.len() >= MAX_ASSISTANTS {
                    return Err(Rejection::new(
                        ErrorCode::Conflict,
                        format!("a room has at most {MAX_ASSISTANTS} assistants"),
                    ));
                }
                self.assistants.push(Assistant {
                    user: user.to_string(),
                    nick: nick.filter(|n| !n.is_empty()).unwrap_or(user).to_string(),
                });
                Ok(())
            }
            Role::SubAnchor => {
                // One sub-anchor per room: assigning replaces the previous one.
                self.sub_anchor = Some(user.to_string());
                Ok(())
            }
            other => Err(Rejection::new(
                ErrorCode::Invalid,
                format!("role must be assistant, sub_anchor or viewer, not {other:?}"),
            )),
        }
    }
}

/// The action a role change needs: managing the sub-anchor when it touches
/// the sub-anchor slot, managing assistants otherwise.
fn action_for(room: &Room, user: &str, role: Role) -> Action {
    if role == Role::SubAnchor || room.moderation.sub_anchor.as_deref() == Some(user) {
        Action::ManageSubAnchor
    } else {
        Action::ManageAssistants
    }
}

/// Assigns or removes a role, authorized for `actor` against the stored room.
pub async fn set_role(
    node: &Node,
    actor: &Actor,
    room_id: &str,
    user: &str,
    role: Role,
    nick: Option<&str>,
) -> Result<Room, Rejection> {
    node.limits.check_id("user", user)?;
    if let Some(n) = nick {
        node.limits.check_nick(n)?;
    }
    let actor_role = actor.role;
    let room = node
        .update_room(room_id, &|r| {
            authorize(actor_role, action_for(r, user, role))?;
            let anchor = r.anchor.clone();
            r.moderation.assign(&anchor, user, role, nick)
        })
        .await
        .map_err(|e| e.rejection())?;
    let action = if role == Role::Viewer {
        "remove_role"
    } else {
        "set_role"
    };
    audit::record(node, actor, room_id, action, user, Some(role.as_str())).await;
    Ok(room)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_assistants_and_one_sub_anchor() {
        let mut m = RoomModeration::default();
        for i in 0..MAX_ASSISTANTS {
            m.assign("a", &format!("u{i}"), Role::Assistant, Some("helper"))
                .unwrap();
        }
        let err = m.assign("a", "u10", Role::Assistant, None).unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
        assert_eq!(m.role_of("u3"), Role::Assistant);
        assert_eq!(m.assistant_nick("u3"), Some("helper"));
        m.assign("a", "s1", Role::SubAnchor, None).unwrap();
        m.assign("a", "s2", Role::SubAnchor, None).unwrap();
        assert_eq!(m.role_of("s1"), Role::Viewer);
        assert_eq!(m.role_of("s2"), Role::SubAnchor);
        m.assign("a", "u3", Role::Viewer, None).unwrap();
        assert_eq!(m.role_of("u3"), Role::Viewer);
        assert!(m.assign("a", "a", Role::Assistant, None).is_err());
        assert!(m.assign("a", "x", Role::Anchor, None).is_err());
    }
}

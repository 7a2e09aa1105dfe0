//! The permission matrix: which room role may perform which action. Every
//! request passes through [`authorize`]; docs/protocol.md shows the table.

use protocol::{ErrorCode, Rejection, Role};

/// Everything a caller can do to a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Join and receive the room's events.
    Watch,
    /// Post a comment.
    Comment,
    /// Tap like.
    Like,
    /// Start the live.
    LiveStart,
    /// Pause the live.
    LivePause,
    /// Resume a paused or abnormal live.
    LiveResume,
    /// End the live.
    LiveEnd,
    /// Ban the room (operators only).
    Ban,
}

impl Action {
    /// The action of a `live` request.
    pub fn from_live(action: protocol::LiveAction) -> Action {
        use protocol::LiveAction as L;
        match action {
            L::Start => Action::LiveStart,
            L::Pause => Action::LivePause,
            L::Resume => Action::LiveResume,
            L::End => Action::LiveEnd,
        }
    }

    /// Every action, for tables and tests.
    pub const ALL: [Action; 8] = [
        Action::Watch,
        Action::Comment,
        Action::Like,
        Action::LiveStart,
        Action::LivePause,
        Action::LiveResume,
        Action::LiveEnd,
        Action::Ban,
    ];
}

/// Whether `role` may perform `action` (the matrix itself).
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Anchor => action != Ban,
        // The sub-anchor has every anchor power except start/end/resume.
        Role::SubAnchor => matches!(action, Watch | Comment | Like | LivePause),
        Role::Assistant | Role::Viewer => matches!(action, Watch | Comment | Like),
        Role::Anonymous => action == Watch,
    }
}

/// The authorization step of the request path.
pub fn authorize(role: Role, action: Action) -> Result<(), Rejection> {
    if allowed(role, action) {
        return Ok(());
    }
    if role == Role::Anonymous {
        return Err(Rejection::new(
            ErrorCode::Unauthenticated,
            "sign in with a token to do this",
        ));
    }
    Err(Rejection::new(
        ErrorCode::Forbidden,
        format!("{role:?} may not {action:?}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_of_the_matrix() {
        use Action::*;
        let roles = [
            Role::Anonymous,
            Role::Viewer,
            Role::Assistant,
            Role::SubAnchor,
            Role::Anchor,
            Role::Admin,
        ];
        // Rows follow `roles`; columns follow `Action::ALL`.
        let expected: [[bool; 8]; 6] = [
            [true, false, false, false, false, false, false, false],
            [true, true, true, false, false, false, false, false],
            [true, true, true, false, false, false, false, false],
            [true, true, true, false, true, false, false, false],
            [true, true, true, true, true, true, true, false],
            [true, true, true, true, true, true, true, true],
        ];
        for (r, role) in roles.iter().enumerate() {
            for (a, action) in Action::ALL.iter().enumerate() {
                assert_eq!(
                    allowed(*role, *action),
                    expected[r][a],
                    "{role:?} {action:?}"
                );
            }
        }
        assert_eq!(
            authorize(Role::Anonymous, Comment).unwrap_err().code,
            ErrorCode::Unauthenticated
        );
        assert_eq!(
            authorize(Role::Viewer, LiveStart).unwrap_err().code,
            ErrorCode::Forbidden
        );
    }
}

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
    /// Delete one comment for everyone.
    DeleteComment,
    /// Mute, unmute and list muted users.
    Mute,
    /// Assign or remove assistants.
    ManageAssistants,
    /// Assign or remove the sub-anchor.
    ManageSubAnchor,
    /// Flip room switches (the room-wide comment ban).
    Switch,
    /// Change the room's sensitive-word list.
    RoomWords,
    /// Comment without waiting for slow mode.
    SkipSlowMode,
    /// Create and start lotteries.
    Lottery,
    /// Set or remove the room's live preview.
    Preview,
    /// Manage the goods shelf, push cards and coupons, pin the explaining
    /// item.
    Goods,
    /// Grab goods and claim coupons.
    Grab,
    /// Subscribe to the room's start reminder (signed in, not joined).
    Remind,
    /// Push or withdraw notices.
    Notice,
    /// Switch co-stream on or off for the room.
    CostreamSwitch,
    /// See the co-stream applicants, accept one, invite a viewer.
    CostreamHost,
    /// Apply for co-stream (real-name-verified viewers) or cancel.
    CostreamApply,
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
    pub const ALL: [Action; 24] = [
        Action::Watch,
        Action::Comment,
        Action::Like,
        Action::LiveStart,
        Action::LivePause,
        Action::LiveResume,
        Action::LiveEnd,
        Action::Ban,
        Action::DeleteComment,
        Action::Mute,
        Action::ManageAssistants,
        Action::ManageSubAnchor,
        Action::Switch,
        Action::RoomWords,
        Action::SkipSlowMode,
        Action::Lottery,
        Action::Preview,
        Action::Goods,
        Action::Grab,
        Action::Remind,
        Action::Notice,
        Action::CostreamSwitch,
        Action::CostreamHost,
        Action::CostreamApply,
    ];
}

/// Whether `role` may perform `action` (the matrix itself).
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Anchor => !matches!(action, Ban | CostreamApply),
        // The sub-anchor has every anchor power except start/end/resume and
        // managing the sub-anchor.
        Role::SubAnchor => !matches!(
            action,
            Ban | LiveStart
                | LiveResume
                | LiveEnd
                | ManageSubAnchor
                | Preview
                | CostreamHost
                | CostreamApply
        ),
        Role::Assistant => matches!(
            action,
            Watch
                | Comment
                | Like
                | DeleteComment
                | Mute
                | RoomWords
                | SkipSlowMode
                | Grab
                | Remind
                | CostreamApply
        ),
        Role::Viewer => matches!(
            action,
            Watch | Comment | Like | Grab | Remind | CostreamApply
        ),
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
        // Rows follow `roles`; columns follow `Action::ALL`:
        // watch comment like start pause resume end ban | delete mute
        // assistants sub-anchor switch words skip-slow-mode | lottery preview
        // goods grab remind notice | costream switch, host, apply.
        let (y, n) = (true, false);
        let expected: [[bool; 24]; 6] = [
            [
                y, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n,
            ],
            [
                y, y, y, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, y, y, n, n, n, y,
            ],
            [
                y, y, y, n, n, n, n, n, y, y, n, n, n, y, y, n, n, n, y, y, n, n, n, y,
            ],
            [
                y, y, y, n, y, n, n, n, y, y, y, n, y, y, y, y, n, y, y, y, y, y, n, n,
            ],
            [
                y, y, y, y, y, y, y, n, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, n,
            ],
            [
                y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y,
            ],
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

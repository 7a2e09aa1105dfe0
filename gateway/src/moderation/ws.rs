//! Moderation requests of a joined session: delete a comment, mute, unmute
//! and list the mutes, assign roles, flip the comment switch, change the room's word
//! list and allow-list. The session authorizes the request ([`action`]) against the
//! caller's current role (the hub's record), then [`handle`] runs the same
//! action the admin API runs.

use protocol::{EventKind, Rejection, Request, RequestId, ServerFrame};

use super::{Actor, WordChange, audit, mute, roles, words};
use crate::auth::Action;
use crate::room::Room;
use crate::service::Node;
use crate::session::ack;

/// The action a moderation request needs the caller's role to allow.
pub fn action(request: &Request) -> Action {
    match request {
        Request::DeleteComment(_) => Action::DeleteComment,
        Request::Mute(_) | Request::Unmute(_) | Request::Mutes(_) => Action::Mute,
        Request::SetRole(_) => Action::ManageAssistants,
        Request::Switch(_) => Action::Switch,
        _ => Action::RoomWords,
    }
}

/// Runs a moderation request of `actor` in `room` (the hub's record), once
/// the session has authorized [`action`] for the actor's role.
pub async fn handle(
    node: &Node,
    actor: &Actor,
    room: &Room,
    id: Option<RequestId>,
    request: Request,
) -> Result<ServerFrame, Rejection> {
    match request {
        Request::Mutes(_) => {
            let mut mutes = node
                .moderation_store
                .mutes(&room.id, crate::clock::now_ms())
                .await
                .map_err(|e| e.rejection())?;
            mutes.sort_by(|a, b| a.user.cmp(&b.user));
            let mutes = mutes
                .into_iter()
                .map(|m| protocol::MuteInfo {
                    user: m.user,
                    until_ms: m.until_ms,
                    shadow: m.shadow,
                    by: m.by,
                    at_ms: m.at_ms,
                })
                .collect();
            return Ok(ServerFrame::Mutes(protocol::MuteList { id, mutes }));
        }
        Request::DeleteComment(d) => {
            mute::delete_comment(node, actor, &room.id, d.offset, d.reason.as_deref()).await?;
        }
        Request::Mute(m) => {
            mute::mute(
                node,
                actor,
                &room.id,
                &m.user,
                m.duration_s,
                m.shadow,
                m.reason.as_deref(),
            )
            .await?;
        }
        Request::Unmute(u) => mute::unmute(node, actor, &room.id, &u.user).await?,
        Request::SetRole(r) => {
            roles::set_role(node, actor, &room.id, &r.user, r.role, r.nick.as_deref()).await?;
        }
        Request::Switch(sw) => {
            let Some(on) = sw.comments else {
                return Ok(ack(id, None));
            };
            let updated = node
                .update_room(&room.id, &|r| {
                    r.switches.comments = on;
                    Ok(())
                })
                .await
                .map_err(|e| e.rejection())?;
            if updated.switches != room.switches {
                node.publish(&room.id, EventKind::Switches(updated.switches))
                    .await?;
            }
            let what = if on { "comments_on" } else { "comments_off" };
            audit::record(node, actor, &room.id, "switch", what, None).await;
        }
        Request::Words(w) => {
            let change = WordChange {
                add: &w.add,
                remove: &w.remove,
                ..WordChange::default()
            };
            words::change(node, actor, Some(&room.id), change).await?;
        }
        Request::AllowWords(w) => {
            let change = WordChange {
                allow_add: &w.add,
                allow_remove: &w.remove,
                ..WordChange::default()
            };
            words::change(node, actor, Some(&room.id), change).await?;
        }
        _ => {}
    }
    Ok(ack(id, None))
}

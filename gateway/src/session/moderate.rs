//! Moderation requests of a joined session: delete a comment, mute and
//! unmute, assign roles, flip the comment switch, change the room's word
//! list. Each is authorized against the caller's current role (the hub's record) and
//! runs the same action the admin API runs (`crate::moderation`).

use protocol::{EventKind, Rejection, Request, RequestId, ServerFrame};

use super::Session;
use super::requests::ack;
use crate::auth::Action;
use crate::moderation::{Actor, audit, mute, roles, words};

impl Session {
    /// Handles a moderation request (any request `handle` does not).
    pub(super) async fn moderate(
        &mut self,
        id: Option<RequestId>,
        request: Request,
    ) -> Result<ServerFrame, Rejection> {
        let action = match &request {
            Request::DeleteComment(_) => Action::DeleteComment,
            Request::Mute(_) | Request::Unmute(_) => Action::Mute,
            Request::SetRole(_) => Action::ManageAssistants,
            Request::Switch(_) => Action::Switch,
            _ => Action::RoomWords,
        };
        let (room, role) = self.authorized(action)?;
        let actor = Actor {
            user: self
                .identity
                .as_ref()
                .map_or_else(String::new, |i| i.user.clone()),
            role,
        };
        let node = &self.node;
        match request {
            Request::DeleteComment(d) => {
                mute::delete_comment(node, &actor, &room.id, d.offset, d.reason.as_deref()).await?;
            }
            Request::Mute(m) => {
                mute::mute(
                    node,
                    &actor,
                    &room.id,
                    &m.user,
                    m.duration_s,
                    m.shadow,
                    m.reason.as_deref(),
                )
                .await?;
            }
            Request::Unmute(u) => mute::unmute(node, &actor, &room.id, &u.user).await?,
            Request::SetRole(r) => {
                roles::set_role(node, &actor, &room.id, &r.user, r.role, r.nick.as_deref()).await?;
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
                audit::record(node, &actor, &room.id, "switch", what, None).await;
            }
            Request::Words(w) => {
                words::change(node, &actor, Some(&room.id), &w.add, &w.remove).await?;
            }
            _ => {}
        }
        Ok(ack(id, None))
    }
}

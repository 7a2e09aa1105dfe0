//! Co-stream requests of a joined, signed-in session: `costream` (one
//! step of the state machine per `action`) and `signal`. The session
//! authorizes [`action`] against the caller's current role, then calls
//! [`handle`] or [`signal`]; the party checks (the anchor, the guest of
//! this session) are the state machine's.

use protocol::costream::{CostreamAction, CostreamRequest, LinkAction, LinkRequest, Media, Signal};
use protocol::pk::{DEFAULT_PK_DURATION_S, MAX_PK_DURATION_S, MIN_PK_DURATION_S};
use protocol::{ErrorCode, Limits, Rejection, RequestId, RoomEvent, ServerFrame};

use super::Step;
use crate::auth::{Action, Identity};
use crate::clock::now_ms;
use crate::room::Room;
use crate::service::Node;
use crate::session::ack;

/// What a `costream` request asks permission for.
pub fn action(req: &CostreamRequest) -> Action {
    use CostreamAction as A;
    match req.action {
        A::Enable | A::Disable => Action::CostreamSwitch,
        A::Applicants | A::Accept | A::Invite => Action::CostreamHost,
        A::Apply | A::Cancel => Action::CostreamApply,
        // The state machine checks that the caller is a party.
        A::Confirm | A::Decline | A::Mute | A::End => Action::Watch,
    }
}

/// The field limits of a `costream` request.
pub fn check_fields(limits: &Limits, req: &CostreamRequest) -> Result<(), Rejection> {
    use CostreamAction as A;
    let missing = |f: &str| {
        Rejection::new(
            ErrorCode::Invalid,
            format!("costream {:?} needs {f}", req.action).to_lowercase(),
        )
    };
    if let Some(u) = &req.user {
        limits.check_id("user", u)?;
    }
    match req.action {
        A::Accept if req.user.is_none() => Err(missing("user")),
        A::Invite if req.user.is_none() || req.media.is_none() => Err(missing("user and media")),
        A::Apply if req.media.is_none() => Err(missing("media")),
        A::Confirm | A::Decline | A::End if req.session.is_none() => Err(missing("session")),
        A::Mute if req.session.is_none() || req.muted.is_none() => {
            Err(missing("session and muted"))
        }
        _ => Ok(()),
    }
}

/// Runs an authorized `costream` request of `who` in `room`.
pub async fn handle(
    node: &Node,
    who: &Identity,
    room: &Room,
    id: Option<RequestId>,
    req: CostreamRequest,
) -> Result<ServerFrame, Rejection> {
    use CostreamAction as A;
    let session = req.session.unwrap_or_default();
    let real_name = || {
        if who.real_name {
            Ok(())
        } else {
            Err(Rejection::new(
                ErrorCode::RealNameRequired,
                "only real-name-verified viewers may co-stream",
            ))
        }
    };
    let step = match req.action {
        A::Enable => Step::Enable(true),
        A::Disable => Step::Enable(false),
        A::Apply => {
            real_name()?;
            Step::Apply {
                nick: who.nick.clone(),
                media: req.media.unwrap_or(Media::Voice),
            }
        }
        A::Cancel => Step::Cancel,
        A::Applicants => {
            let event = RoomEvent {
                offset: 0,
                ts: now_ms(),
                kind: super::applicants_event(room),
            };
            return Ok(ack(id, Some(event)));
        }
        A::Accept => Step::Accept(req.user.unwrap_or_default()),
        A::Invite => {
            let user = req.user.unwrap_or_default();
            if user == room.anchor {
                return Err(Rejection::new(
                    ErrorCode::Invalid,
                    "the anchor cannot invite themself",
                ));
            }
            Step::Invite {
                user,
                media: req.media.unwrap_or(Media::Voice),
            }
        }
        A::Confirm => {
            if who.user != room.anchor {
                real_name()?;
            }
            Step::Confirm(session, who.nick.clone())
        }
        A::Decline => Step::Decline(session),
        A::Mute => Step::Mute(session, req.muted.unwrap_or(true)),
        A::End => Step::End(session),
    };
    let (updated, out) = node.costream_step(&room.id, &who.user, step).await?;
    // The ack carries the caller's view of the session after the step.
    let event = out.step.map(|(s, ended)| RoomEvent {
        offset: 0,
        ts: now_ms(),
        kind: protocol::EventKind::CostreamStep(s.step(&updated.anchor, ended)),
    });
    Ok(ack(id, event))
}

/// Relays an authorized `signal` of `who` in `room`.
pub async fn signal(
    node: &Node,
    who: &Identity,
    room: &Room,
    id: Option<RequestId>,
    req: Signal,
) -> Result<ServerFrame, Rejection> {
    node.relay_signal(room, &who.user, req).await?;
    Ok(ack(id, None))
}

/// The field limits of a `link` request.
pub fn check_link_fields(limits: &Limits, req: &LinkRequest) -> Result<(), Rejection> {
    if let Some(r) = &req.room {
        limits.check_id("room", r)?;
    }
    if let Some(d) = req.duration_s
        && !(MIN_PK_DURATION_S..=MAX_PK_DURATION_S).contains(&d)
    {
        return Err(Rejection::new(
            ErrorCode::Invalid,
            format!("pk_start duration_s must be {MIN_PK_DURATION_S}..={MAX_PK_DURATION_S}"),
        ));
    }
    let ok = match req.action {
        LinkAction::Invite => req.room.is_some(),
        LinkAction::Accept | LinkAction::Decline => req.room.is_some() && req.link.is_some(),
        LinkAction::End | LinkAction::PkStart | LinkAction::PkEnd => req.link.is_some(),
    };
    if ok {
        Ok(())
    } else {
        Err(Rejection::new(
            ErrorCode::Invalid,
            "link invite needs room; accept and decline need room and link; end, pk_start and pk_end need link",
        ))
    }
}

/// Runs an authorized `link` request of the anchor of `room`: the ack's
/// event is the caller's `link_step`, or the `pk` event of `pk_start` and
/// `pk_end`.
pub async fn link(
    node: &Node,
    room: &Room,
    id: Option<RequestId>,
    req: LinkRequest,
) -> Result<ServerFrame, Rejection> {
    use protocol::EventKind as K;
    let other = req.room.unwrap_or_default();
    let link = req.link.unwrap_or_default();
    let step = |s| K::LinkStep(Box::new(s));
    let kind = match req.action {
        LinkAction::Invite => step(node.link_invite(room, &other).await?),
        LinkAction::Accept => step(node.link_accept(room, &other, link).await?),
        LinkAction::Decline => step(node.link_decline(room, &other, link).await?),
        LinkAction::End => step(node.link_end(&room.id, link, "ended_by_anchor").await?),
        LinkAction::PkStart => {
            let d = req.duration_s.unwrap_or(DEFAULT_PK_DURATION_S);
            K::Pk(Box::new(node.pk_start(room, link, d).await?))
        }
        LinkAction::PkEnd => K::Pk(Box::new(node.pk_end(room, link).await?)),
    };
    let event = RoomEvent {
        offset: 0,
        ts: now_ms(),
        kind,
    };
    Ok(ack(id, Some(event)))
}

//! Signalling payloads of the co-stream negotiations: an SDP offer or
//! answer shaped like a browser's (audio and video, bundle, DTLS, the usual
//! codecs) and ICE candidate lines (host, srflx, relay), each padded to the
//! scenario's size and carrying its sender's index and send time as an
//! extension (`a=x-lt:<n>/<µs>` in the SDP, `x-lt <n>/<µs>` in a
//! candidate), which the receiving party reads back.

use std::fmt::Write as _;

/// The mark an SDP or candidate carries: `x-lt` then `:` or a space, then
/// `<index>/<unix µs>`.
const MARK: &str = "x-lt";

/// An SDP of about `bytes` bytes (at least the template's), with the mark
/// of message `n` sent at `sent_us`. `answer` picks the answerer's
/// `a=setup:active` and fresh ICE credentials.
pub fn sdp(answer: bool, pair: usize, n: u64, sent_us: u64, bytes: usize) -> String {
    let (setup, ufrag) = if answer {
        ("active", format!("g{pair:x}"))
    } else {
        ("actpass", format!("a{pair:x}"))
    };
    let mut s = String::with_capacity(bytes + 64);
    let session = 4_611_731_400_430_051_336u64 ^ pair as u64;
    let _ = write!(
        s,
        "v=0\r\no=- {session} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
         a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS lt{pair}\r\n"
    );
    let fingerprint = "a=fingerprint:sha-256 5B:D3:8E:66:0E:7D:D3:F3:8E:E6:80:28:19:FC:55:AD:\
                       58:5D:B9:3D:A8:DE:45:4A:E7:87:02:F6:48:D6:0C:D3\r\n";
    let ice = format!(
        "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:{ufrag}\r\n\
         a=ice-pwd:lt{pair:020}pwdpwdpwd\r\na=ice-options:trickle\r\n{fingerprint}a=setup:{setup}\r\n"
    );
    s.push_str("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n");
    s.push_str(&ice);
    s.push_str(
        "a=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
         a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n\
         a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
         a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendrecv\r\n",
    );
    let _ = write!(
        s,
        "a=msid:lt{pair} audio{pair}\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
         a=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
         a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\n\
         a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n\
         a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n\
         a=ssrc:{} cname:lt{pair}\r\n",
        1_000_000 + pair
    );
    s.push_str("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125\r\n");
    s.push_str(&ice);
    s.push_str(
        "a=mid:1\r\na=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n\
         a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n\
         a=extmap:13 urn:3gpp:video-orientation\r\n\
         a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
         a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendrecv\r\n",
    );
    let _ = write!(
        s,
        "a=msid:lt{pair} video{pair}\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
    );
    let codecs = [
        (96, "VP8/90000", ""),
        (
            102,
            "H264/90000",
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
        ),
        (
            104,
            "H264/90000",
            "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f",
        ),
        (
            106,
            "H264/90000",
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        ),
        (108, "VP9/90000", "profile-id=0"),
        (127, "AV1/90000", "level-idx=5;profile=0;tier=0"),
    ];
    for (pt, name, fmtp) in codecs {
        let _ = write!(
            s,
            "a=rtpmap:{pt} {name}\r\na=rtcp-fb:{pt} goog-remb\r\na=rtcp-fb:{pt} transport-cc\r\n\
             a=rtcp-fb:{pt} ccm fir\r\na=rtcp-fb:{pt} nack\r\na=rtcp-fb:{pt} nack pli\r\n"
        );
        if !fmtp.is_empty() {
            let _ = write!(s, "a=fmtp:{pt} {fmtp}\r\n");
        }
        let _ = write!(
            s,
            "a=rtpmap:{} rtx/90000\r\na=fmtp:{} apt={pt}\r\n",
            pt + 1,
            pt + 1
        );
    }
    let _ = write!(
        s,
        "a=ssrc-group:FID {a} {b}\r\na=ssrc:{a} cname:lt{pair}\r\na=ssrc:{b} cname:lt{pair}\r\n",
        a = 2_000_000 + pair,
        b = 3_000_000 + pair
    );
    let mark = format!("a={MARK}:{n}/{sent_us}\r\n");
    pad(
        &mut s,
        "a=x-lt-pad:",
        "\r\n",
        bytes.saturating_sub(mark.len()),
    );
    s.push_str(&mark);
    s
}

/// Candidate `i` of a party (every third one srflx, every fifth relay,
/// else host), about `bytes` bytes, with the mark of message `n`.
pub fn candidate(answer: bool, pair: usize, i: u32, n: u64, sent_us: u64, bytes: usize) -> String {
    let port = 40_000 + (pair % 20_000) as u32 + i;
    let (last, ufrag) = if answer {
        (200, format!("g{pair:x}"))
    } else {
        (100, format!("a{pair:x}"))
    };
    let host = format!("192.168.{}.{last}", pair % 250);
    let foundation = 842_163_049u64.wrapping_add(u64::from(i) * 7919 + pair as u64);
    let mut s = if i % 5 == 4 {
        format!(
            "candidate:{foundation} 1 udp 41885439 198.51.100.{} {port} typ relay raddr 203.0.113.{} rport {port} generation 0 ufrag {ufrag} network-id 1",
            pair % 250,
            pair % 250
        )
    } else if i % 3 == 2 {
        format!(
            "candidate:{foundation} 1 udp 1686052607 203.0.113.{} {port} typ srflx raddr {host} rport {port} generation 0 ufrag {ufrag} network-id 1 network-cost 10",
            pair % 250
        )
    } else {
        format!(
            "candidate:{foundation} 1 udp 2122260223 {host} {port} typ host generation 0 ufrag {ufrag} network-id 1 network-cost 10"
        )
    };
    let mark = format!(" {MARK} {n}/{sent_us}");
    pad(&mut s, " x-lt-pad ", "", bytes.saturating_sub(mark.len()));
    s.push_str(&mark);
    s
}

/// Appends `head`, zeros and `tail` so that `s` reaches `to` bytes (nothing
/// when it is already that long or the padding would not fit).
fn pad(s: &mut String, head: &str, tail: &str, to: usize) {
    let frame = head.len() + tail.len();
    if s.len() + frame < to {
        s.push_str(head);
        let zeros = to - s.len() - tail.len();
        s.extend(std::iter::repeat_n('0', zeros));
        s.push_str(tail);
    }
}

/// The mark of an SDP or candidate: (sender's index, unix µs sent).
pub fn mark(payload: &str) -> Option<(u64, u64)> {
    let mut rest = payload;
    while let Some(at) = rest.find(MARK) {
        rest = &rest[at + MARK.len()..];
        let Some(tail) = rest.strip_prefix(':').or_else(|| rest.strip_prefix(' ')) else {
            continue;
        };
        let digits = |t: &str| t.bytes().take_while(u8::is_ascii_digit).count();
        let n_len = digits(tail);
        let Some(after) = tail[n_len..].strip_prefix('/') else {
            continue;
        };
        let t_len = digits(after);
        if let (Ok(n), Ok(t)) = (tail[..n_len].parse(), after[..t_len].parse()) {
            return Some((n, t));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdp_has_its_size_and_mark() {
        let s = sdp(false, 7, 1, 1_700_000_000_123_456, 4096);
        assert_eq!(s.len(), 4096);
        assert!(s.starts_with("v=0\r\n") && s.ends_with("\r\n"));
        assert!(s.contains("m=audio ") && s.contains("m=video ") && s.contains("a=setup:actpass"));
        assert_eq!(mark(&s), Some((1, 1_700_000_000_123_456)));
        let a = sdp(true, 7, 1, 5, 512);
        assert!(a.len() > 512, "the template alone is larger: {}", a.len());
        assert!(a.contains("a=setup:active"));
        assert_eq!(mark(&a), Some((1, 5)));
    }

    #[test]
    fn candidates_have_their_size_and_mark() {
        for i in 0..10 {
            let c = candidate(i % 2 == 1, 499, i, u64::from(i) + 2, 42, 200);
            assert_eq!(c.len(), 200, "{c}");
            assert!(c.starts_with("candidate:"));
            assert_eq!(mark(&c), Some((u64::from(i) + 2, 42)));
        }
        assert!(candidate(false, 1, 4, 1, 1, 200).contains("typ relay"));
        assert!(candidate(false, 1, 2, 1, 1, 200).contains("typ srflx"));
        let short = candidate(false, 1, 0, 3, 9, 64);
        assert_eq!(mark(&short), Some((3, 9)));
    }

    #[test]
    fn marks_are_found_past_the_padding_and_not_made_up() {
        assert_eq!(mark("a=x-lt-pad:000\r\na=x-lt:12/34\r\n"), Some((12, 34)));
        assert_eq!(mark("candidate:1 x-lt-pad 00 x-lt 5/6"), Some((5, 6)));
        assert_eq!(mark("v=0\r\n"), None);
        assert_eq!(mark("x-lt:/"), None);
        assert_eq!(mark("x-lt 7"), None);
    }
}

//! The bodies of the fuzz targets, as plain functions: the libFuzzer
//! targets under `fuzz_targets/` call them (nightly, `cargo fuzz`), and the
//! stable driver `fuzz-stable` runs them on mutated corpus inputs. Each body
//! panics when an invariant breaks; decoding errors are expected and fine.

use protocol::Codec;

/// One fuzz target: its name (also its corpus folder) and its body.
pub struct Target {
    /// Name, as in `fuzz/corpus/<name>/` and `cargo fuzz run <name>`.
    pub name: &'static str,
    /// The body; panics on a broken invariant. True when the input was
    /// accepted (it parsed): the stable driver breeds from those.
    pub run: fn(&[u8]) -> bool,
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "json_decode_client",
        run: json_decode_client,
    },
    Target {
        name: "binary_decode_client",
        run: binary_decode_client,
    },
    Target {
        name: "wordfilter",
        run: wordfilter,
    },
    Target {
        name: "lottery_record",
        run: lottery_record,
    },
];

/// A client frame as the JSON codec decodes it: never panics, and what
/// decodes re-encodes to a frame that decodes to the same value.
pub fn json_decode_client(data: &[u8]) -> bool {
    decode_client(Codec::Json, data)
}

/// The same for the postcard codec.
pub fn binary_decode_client(data: &[u8]) -> bool {
    decode_client(Codec::Binary, data)
}

fn decode_client(codec: Codec, data: &[u8]) -> bool {
    match codec.decode_client(data) {
        Ok(frame) => {
            let again = codec.encode_client(&frame);
            let back = codec
                .decode_client(&again)
                .unwrap_or_else(|e| panic!("{codec:?}: re-encoded frame does not decode: {e}"));
            assert_eq!(back, frame, "{codec:?}: round trip changed the frame");
            true
        }
        Err(e) => {
            // The rejection sent back to the client must be buildable: an
            // unknown enum value of a known request is `invalid` (not
            // charged to the malformed budget), everything else malformed.
            let r = e.rejection();
            match e.kind() {
                protocol::DecodeKind::UnknownValue => {
                    assert_eq!(r.code, protocol::ErrorCode::Invalid, "{e:?}");
                }
                _ => assert!(r.code.counts_as_malformed(), "{:?}", r.code),
            }
            false
        }
    }
}

/// The word filter on arbitrary text: the first line lists up to 8 words
/// (whitespace-separated) for a dictionary, the rest is the comment. Never
/// panics; hits name valid spans of the text; masking keeps every character
/// that is not masked and the character count.
pub fn wordfilter(data: &[u8]) -> bool {
    use ::wordfilter::{Dictionary, Policy, Scanner, Verdict};
    let input = String::from_utf8_lossy(data);
    let (head, text) = input.split_once('\n').unwrap_or(("", &input));
    let mut builder = Dictionary::builder();
    for (i, word) in head.split_whitespace().take(8).enumerate() {
        if i % 4 == 3 {
            builder.allow(word);
        } else {
            builder.word(word, if i % 2 == 0 { "abuse" } else { "ads" });
        }
    }
    // Words that fold to nothing are refused: that is the error path.
    let dictionary = builder.build().unwrap_or_else(|_| Dictionary::empty());
    let dictionaries = [&dictionary];
    let mut scanner = Scanner::new();
    let policy = Policy::block().with_digit_runs(3).with_urls();
    for hit in scanner.scan(text, &dictionaries, &policy) {
        assert!(hit.span.start < hit.span.end && hit.span.end <= text.len());
        assert!(text.is_char_boundary(hit.span.start) && text.is_char_boundary(hit.span.end));
    }
    let blocked = scanner.check(text, &dictionaries, &policy);
    match scanner.check(
        text,
        &dictionaries,
        &Policy::mask().with_digit_runs(3).with_urls(),
    ) {
        Verdict::Masked { text: masked, .. } => {
            assert!(matches!(blocked, Verdict::Blocked { .. }), "{blocked:?}");
            assert_eq!(masked.chars().count(), text.chars().count());
            for (a, b) in text.chars().zip(masked.chars()) {
                assert!(a == b || b == '*', "{text:?} -> {masked:?}");
            }
        }
        Verdict::Pass => {
            assert_eq!(blocked, Verdict::Pass);
            return false;
        }
        Verdict::Blocked { .. } => panic!("a mask policy blocked"),
    }
    // A text with hits is the interesting kind.
    true
}

/// A published lottery record (JSON) as `lottery verify` reads it: parsing
/// and verifying never panic, and a parsed record prints and re-parses to
/// the same record (what it verifies to does not change).
pub fn lottery_record(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(record) = lottery::Record::from_json(text) else {
        return false;
    };
    let verdict = lottery::verify(&record);
    let again = lottery::Record::from_json(&record.to_json())
        .unwrap_or_else(|e| panic!("a printed record does not parse: {e}"));
    assert_eq!(again, record);
    assert_eq!(lottery::verify(&again).is_ok(), verdict.is_ok());
    true
}

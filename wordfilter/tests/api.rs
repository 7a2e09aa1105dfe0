//! Behaviour of the public API: masking, allow-lists, categories, the
//! boundary rule, detectors, several dictionaries, build errors, hot reload.

mod common;

use std::sync::Arc;

use wordfilter::{
    BuildError, Dictionary, FilterHandle, FoldedText, HitKind, Policy, Scanner, Verdict, fold_str,
};

fn check(text: &str, policy: &Policy) -> Verdict {
    let (global, room) = (common::global(), common::room());
    Scanner::new().check(text, &[&global, &room], policy)
}

fn masked(text: &str) -> String {
    match check(text, &Policy::mask().with_digit_runs(7).with_urls()) {
        Verdict::Masked { text, .. } => text,
        Verdict::Pass => text.to_owned(),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn mask_replaces_each_original_character_and_keeps_the_rest() {
    let cases = [
        ("你好 fuck 世界", "你好 **** 世界"),
        ("ｆ.ｕ.ｃ.ｋ!", "*******!"),
        ("前缀傻 逼后缀", "前缀***后缀"),
        ("  法輪功 ", "  *** "),
        ("a s s and 操你媽!", "***** and ***!"),
        ("tel 138-1234-5678 ok", "tel ************* ok"),
        ("go www.a.com now", "go ********* now"),
        ("fu\u{0301}ck.", "*****."),
        ("干净的评论", "干净的评论"),
    ];
    for (input, want) in cases {
        assert_eq!(masked(input), want, "input {input:?}");
    }
}

#[test]
fn masked_verdict_lists_categories_in_order() {
    let v = check("加微信 然后 fuck", &Policy::mask());
    let Verdict::Masked { categories, .. } = v else {
        panic!("expected mask, got {v:?}");
    };
    let names: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
    assert_eq!(names, ["contact", "abuse"]);
}

#[test]
fn block_names_the_category_never_the_word() {
    let v = check("我们支持台独吗", &Policy::block());
    assert_eq!(
        v,
        Verdict::Blocked {
            category: "politics".into()
        }
    );
    let text = format!("{v:?}");
    assert!(!text.contains("台独"), "{text}");
}

#[test]
fn allow_list_cancels_covered_matches_only() {
    assert_eq!(check("assassin", &Policy::block()), Verdict::Pass);
    assert_eq!(check("傻逼格", &Policy::block()), Verdict::Pass);
    assert_eq!(check("傻 逼 格", &Policy::block()), Verdict::Pass);
    assert!(matches!(check("傻逼 格", &Policy::block()), Verdict::Pass));
    assert!(matches!(
        check("傻逼，你傻逼格", &Policy::block()),
        Verdict::Blocked { .. }
    ));
}

#[test]
fn allow_list_of_one_dictionary_does_not_cancel_another() {
    let room = Dictionary::builder().allow("傻逼").build().unwrap();
    let global = common::global();
    let v = Scanner::new().check("傻逼", &[&global, &room], &Policy::block());
    assert_eq!(
        v,
        Verdict::Blocked {
            category: "abuse".into()
        }
    );
}

#[test]
fn boundary_rule_on_folded_text() {
    let block = Policy::block();
    let hits = [
        "ass",
        "an ass.",
        "cl ass",
        "ass123",
        "大ass",
        "a\u{200B}s\u{200B}s",
    ];
    for t in hits {
        assert_ne!(check(t, &block), Verdict::Pass, "{t:?}");
    }
    let passes = [
        "class",
        "cl\u{200B}ass",
        "asses",
        "cla\u{0301}ss",
        "18964",
        "89641",
    ];
    for t in passes {
        assert_eq!(check(t, &block), Verdict::Pass, "{t:?}");
    }
    assert_ne!(check("捌玖陆肆事件", &block), Verdict::Pass);
    // The number rule: a digit word matches whole numbers that are not
    // quantities.
    for t in [
        "8.964",
        "89.64",
        "8964元",
        "¥8964",
        "第8964名",
        "1,8964",
        "28964",
    ] {
        assert_eq!(check(t, &block), Verdict::Pass, "{t:?}");
    }
    for t in [
        "8,964",
        "8.9.6.4",
        "就是8964啊",
        "8964!",
        "1 8964",
        "(8964)",
    ] {
        assert_ne!(check(t, &block), Verdict::Pass, "{t:?}");
    }
}

#[test]
fn detectors_are_off_unless_the_policy_asks() {
    let text = "电话 13812345678 www.example.com";
    assert_eq!(check(text, &Policy::block()), Verdict::Pass);
    let (g, r) = (common::global(), common::room());
    let mut s = Scanner::new();
    let hits = s.scan(
        text,
        &[&g, &r],
        &Policy::block().with_digit_runs(7).with_urls(),
    );
    let kinds: Vec<HitKind> = hits.iter().map(|h| h.kind).collect();
    assert_eq!(kinds, [HitKind::DigitRun, HitKind::Url]);
    assert_eq!(&text[hits[0].span.clone()], "13812345678");
    assert_eq!(&text[hits[1].span.clone()], "www.example.com");
    let short = Policy::block().with_digit_runs(12);
    assert_eq!(check("13812345678", &short), Verdict::Pass);
}

#[test]
fn one_fold_serves_global_and_room_dictionaries() {
    let (g, r) = (common::global(), common::room());
    let mut s = Scanner::new();
    let hits = s.scan("代購和fuck", &[&g, &r], &Policy::block());
    let cats: Vec<&str> = hits.iter().map(|h| h.category.as_str()).collect();
    assert_eq!(cats, ["ads", "abuse"]);
    assert_eq!(s.folded().as_str(), "代购和fuck");
}

#[test]
fn build_rejects_noise_only_words_and_accepts_duplicates() {
    let err = Dictionary::builder()
        .word(" .. ", "abuse")
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::EmptyWord { ref word } if word == " .. "));
    let d = Dictionary::builder()
        .word("傻逼", "abuse")
        .word("傻 逼", "abuse")
        .word("儍逼", "abuse")
        .build()
        .unwrap();
    assert_eq!(d.word_count(), 3);
    assert_eq!(
        Scanner::new().check("", &[&d], &Policy::block()),
        Verdict::Pass
    );
    let empty = Dictionary::empty();
    assert_eq!(
        Scanner::new().check("fuck", &[&empty], &Policy::block()),
        Verdict::Pass
    );
}

#[test]
fn hot_reload_swaps_atomically() {
    let handle = Arc::new(FilterHandle::new(common::global()));
    let before = handle.load();
    let mut next = Dictionary::builder();
    next.word("新词", "ads");
    handle.reload(&next).unwrap();
    let after = handle.load();
    let mut s = Scanner::new();
    assert_eq!(s.check("新词", &[&before], &Policy::block()), Verdict::Pass);
    assert_eq!(
        s.check("新詞", &[&after], &Policy::block()),
        Verdict::Blocked {
            category: "ads".into()
        }
    );
    let bad = Dictionary::builder().word("!!", "ads").clone();
    assert!(handle.reload(&bad).is_err());
    assert_eq!(
        handle.load().word_count(),
        1,
        "failed reload keeps the old one"
    );
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let h = Arc::clone(&handle);
            std::thread::spawn(move || {
                let mut s = Scanner::new();
                (0..200).all(|_| s.check("新词", &[&h.load()], &Policy::block()) != Verdict::Pass)
            })
        })
        .collect();
    for _ in 0..20 {
        handle.swap(next.build().unwrap());
    }
    for r in readers {
        assert!(r.join().unwrap());
    }
}

#[test]
fn fold_str_and_spans_for_keyword_matching() {
    assert_eq!(fold_str("刷 指定 評論！"), "刷指定评论");
    assert_eq!(fold_str("Ｈｅｌｌｏ，Wörld"), "helloworld");
    let f = FoldedText::fold("a ﬁ b");
    assert_eq!(f.as_str(), "afib");
    assert_eq!(f.original_span(1..2), Some(2..5));
    assert!(FoldedText::fold(" \u{200B} ").is_empty());
}

fn listed(text: &str) -> Verdict {
    Scanner::new().check(text, &[&common::listed()], &common::strict())
}

#[test]
fn the_lexicon_drops_a_match_that_a_more_probable_segmentation_cuts() {
    let mut b = Dictionary::builder();
    // Without the default allow-list, to see the lexicon rule alone.
    b.word("刷单", "ads")
        .word("大麻", "drugs")
        .default_allow(false);
    let plain = b.clone().lexicon(false).build().unwrap();
    let precise = b.build().unwrap();
    let mut s = Scanner::new();
    let p = Policy::block();
    // 牙刷|单价: the hit straddles two words.
    assert_ne!(s.check("这个牙刷单价多少", &[&plain], &p), Verdict::Pass);
    assert_eq!(s.check("这个牙刷单价多少", &[&precise], &p), Verdict::Pass);
    assert_eq!(s.check("大麻烦了", &[&precise], &p), Verdict::Pass);
    // Where the hit is a word of the best segmentation it counts.
    for t in ["招人刷单日结", "刷单", "卖大麻", "有大麻吗"] {
        assert_ne!(s.check(t, &[&precise], &p), Verdict::Pass, "{t:?}");
    }
    // Spaces between words do not matter; a lexicon word is never read
    // across noise, so a word spelled out with noise is never cut.
    assert_eq!(s.check("这个牙刷 单价多少", &[&precise], &p), Verdict::Pass);
    for t in ["牙.刷.单.价", "牙 刷 单 价", "牙刷.单.价"] {
        assert_ne!(s.check(t, &[&precise], &p), Verdict::Pass, "{t:?}");
    }
}

#[test]
fn the_default_allow_list_cancels_compounds_at_their_position_only() {
    assert_eq!(listed("天津大麻花"), Verdict::Pass);
    assert_eq!(listed("刷单词的软件"), Verdict::Pass);
    assert_eq!(listed("平台独家"), Verdict::Pass);
    assert!(matches!(
        listed("天津大麻花，还卖大麻"),
        Verdict::Blocked { .. }
    ));
    assert!(wordfilter::default_allow_list().any(|w| w == "大麻花"));
    let with = Dictionary::builder().word("大麻", "drugs").build().unwrap();
    let v = Scanner::new().check("天津大麻花", &[&with], &Policy::block());
    assert_eq!(v, Verdict::Pass, "the default allow-list is on by default");
    let without = Dictionary::builder()
        .word("大麻", "drugs")
        .default_allow(false)
        .build()
        .unwrap();
    let v = Scanner::new().check("天津大麻花", &[&without], &Policy::block());
    assert_ne!(v, Verdict::Pass);
}

#[test]
fn an_earlier_allow_list_cancels_later_dictionaries_but_not_the_reverse() {
    let global = Dictionary::builder().allow("竞品牌").build().unwrap();
    let room = Dictionary::builder().word("竞品", "ads").build().unwrap();
    let mut s = Scanner::new();
    let p = Policy::block();
    assert_eq!(s.check("竞品牌子", &[&global, &room], &p), Verdict::Pass);
    assert_ne!(s.check("竞品", &[&global, &room], &p), Verdict::Pass);
    // A room allow-list never cancels a global match.
    assert_ne!(s.check("竞品牌子", &[&room, &global], &p), Verdict::Pass);
}

#[test]
fn digit_runs_skip_prices_dates_and_labelled_numbers_but_not_phones() {
    let p = Policy::block().with_digit_runs(7);
    let d = Dictionary::empty();
    let mut s = Scanner::new();
    for t in [
        "价格 12999.00 元",
        "2024-12-25 下单",
        "2024.12.25",
        "订单号 2024122512345678",
        "快递单号是SF1234567890123",
        "库存 12345678 件",
        "满10000000减1",
        "20:00-22:00 直播",
    ] {
        assert_eq!(s.check(t, &[&d], &p), Verdict::Pass, "{t:?}");
    }
    for t in [
        "加我 138 1234 5678",
        "13812345678元",
        "qq 12345678",
        "2024-12-25 加我 12345678",
        "1.3.8.1.2.3.4.5.6.7.8",
    ] {
        assert_ne!(s.check(t, &[&d], &p), Verdict::Pass, "{t:?}");
    }
}

#[test]
fn new_noise_and_letter_forms_are_seen_through() {
    let cases = [
        ("傻🇨🇳逼", "abuse"),
        ("🇫🇺🇨🇰", "abuse"),
        ("傻丶逼", "abuse"),
        ("法丨轮丨功", "politics"),
        ("台ー独", "politics"),
        ("傻ㆍ逼", "abuse"),
        ("傻ꞏ逼", "abuse"),
        ("f™u™c™k", "abuse"),
        ("傻℃逼", "abuse"),
        ("傻㎏逼", "abuse"),
        ("ꜰᴜᴄᴋ", "abuse"),
        ("ꜰuck", "abuse"),
        ("ᏟᎪꓢᎥNᎾ", "ads"),
        ("ꓚasino", "ads"),
    ];
    for (t, cat) in cases {
        assert_eq!(
            check(t, &Policy::block()),
            Verdict::Blocked {
                category: cat.into()
            },
            "{t:?} folded {:?}",
            fold_str(t)
        );
    }
    assert_eq!(fold_str("25℃ 5㎏ ™"), "255");
    assert_eq!(fold_str("ℱ ℎ"), "fh");
    // Chinese numerals stay digits; Han characters are never look-alikes.
    assert_eq!(fold_str("二〇二四年"), "2024年");
    assert_eq!(fold_str("口工"), "口工");
    // Look-alikes keep the boundary rule: `ᴄlass` is `class`, no `ass` hit.
    assert_eq!(check("ᴄlᴀꜱꜱ", &Policy::block()), Verdict::Pass);
}

#[test]
fn a_one_character_word_counts_only_as_its_own_word() {
    let mut b = Dictionary::builder();
    b.word("操", "abuse").word("逼", "abuse");
    let d = b.build().unwrap();
    let mut s = Scanner::new();
    let p = Policy::block();
    for t in ["操作简单", "画面很逼真", "体操服"] {
        assert_eq!(s.check(t, &[&d], &p), Verdict::Pass, "{t:?}");
    }
    for t in ["我操", "操！", "逼 你"] {
        assert_ne!(s.check(t, &[&d], &p), Verdict::Pass, "{t:?}");
    }
}

#[test]
fn times_dates_fractions_and_labels_are_not_whole_numbers() {
    let d = common::listed();
    let mut s = Scanner::new();
    let p = Policy::block();
    for t in [
        "6/4 发货",
        "6:40 开播",
        "1/250 快门",
        "手机尾号8964",
        "库存250",
        "数量 419",
        "250路公交",
        "3栋250室",
    ] {
        assert_eq!(s.check(t, &[&d], &p), Verdict::Pass, "{t:?}");
    }
    for t in ["8/9/6/4", "8:9:6:4", "六/四", "8-9-6-4"] {
        assert_ne!(s.check(t, &[&d], &p), Verdict::Pass, "{t:?}");
    }
}

#[test]
fn digits_inside_a_latin_word_are_read_as_letters() {
    let p = Policy::block().with_digit_runs(7);
    for t in [
        "sh1t",
        "b1tch",
        "bi7ch please",
        "play c4s1no now",
        "SH1T!",
        "b1t.ch",
    ] {
        assert!(matches!(check(t, &p), Verdict::Blocked { .. }), "{t:?}");
    }
    for t in [
        "a55",
        "mp3",
        "4k 屏",
        "iphone15",
        "5s",
        "s10e",
        "x1s",
        "8964元",
        "Galaxy A55",
    ] {
        assert!(
            !matches!(check(t, &p), Verdict::Blocked { category } if category.as_str() == "abuse"),
            "{t:?}"
        );
    }
    let mut f = FoldedText::fold("sh1t 1234 a55 b10tch");
    assert!(f.read_digits_as_letters());
    assert_eq!(f.as_str(), "shit1234a55biotch");
    // Masking still covers the original characters.
    let v = check("oh sh1t", &Policy::mask());
    assert_eq!(
        v,
        Verdict::Masked {
            text: "oh ****".into(),
            categories: vec!["abuse".into()]
        }
    );
}

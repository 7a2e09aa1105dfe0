//! Table-driven evasion cases (each must be blocked with the right category)
//! and innocent comments (each must pass), all under the strict policy.

mod common;

use wordfilter::{Scanner, Verdict};

/// (text, expected category)
const EVASIONS: &[(&str, &str)] = &[
    // Case and width.
    ("FUCK you", "abuse"),
    ("FuCk", "abuse"),
    ("ｆｕｃｋ", "abuse"),
    ("ＦＵＣＫ off", "abuse"),
    ("ａｓｓ", "abuse"),
    // Noise between characters.
    ("f u c k", "abuse"),
    ("f.u.c.k", "abuse"),
    ("f-u-c-k", "abuse"),
    ("f_u_c_k", "abuse"),
    ("f*u*c*k", "abuse"),
    ("f\u{200B}u\u{200B}c\u{200B}k", "abuse"),
    ("f\u{200D}uck", "abuse"),
    ("fu\u{0301}ck", "abuse"),
    ("f\u{FE0F}uck", "abuse"),
    ("fúck", "abuse"),
    ("a s s", "abuse"),
    ("you are an ass", "abuse"),
    ("bad-ass", "abuse"),
    ("ASS!!!", "abuse"),
    ("傻 逼", "abuse"),
    ("傻*逼", "abuse"),
    ("傻😀逼", "abuse"),
    ("傻\u{200B}逼", "abuse"),
    ("操　你　妈", "abuse"),
    ("法．轮．功", "politics"),
    ("法_轮_功", "politics"),
    ("兼 職", "ads"),
    // Enclosed and styled Latin letters.
    ("ⓕⓤⓒⓚ", "abuse"),
    ("ⒻⓊⒸⓀ", "abuse"),
    ("⒡⒰⒞⒦", "abuse"),
    ("𝐟𝐮𝐜𝐤", "abuse"),
    ("𝒻𝓊𝒸𝓀", "abuse"),
    ("𝔣𝔲𝔠𝔨", "abuse"),
    ("ℱ𝓊𝒸𝓀", "abuse"),
    ("🅵🆄🅲🅺", "abuse"),
    ("🇫🇺🇨🇰", "abuse"),
    ("ᴀss", "abuse"),
    // Look-alike letters from other scripts.
    ("fυck", "abuse"),
    ("shіt", "abuse"),
    ("ѕhit", "abuse"),
    ("bitсh", "abuse"),
    ("АSS", "abuse"),
    ("cаsino", "ads"),
    ("CΑSΙΝΟ", "ads"),
    ("ѵiagra", "ads"),
    // Traditional characters.
    ("操你媽", "abuse"),
    ("法輪功", "politics"),
    ("臺獨", "politics"),
    ("代購", "ads"),
    ("刷單", "ads"),
    ("扫貳維碼", "ads"),
    // Digit forms.
    ("8964", "politics"),
    ("八九六四", "politics"),
    ("捌玖陆肆", "politics"),
    ("捌玖陸肆", "politics"),
    ("⑧⑨⑥④", "politics"),
    ("⑻⑼⑹⑷", "politics"),
    ("⒏⒐⒍⒋", "politics"),
    ("❽❾❻❹", "politics"),
    ("➇➈➅➃", "politics"),
    ("８９６４", "politics"),
    ("⁸⁹⁶⁴", "politics"),
    ("₈₉₆₄", "politics"),
    ("㈧㈨㈥㈣", "politics"),
    ("㊇㊈㊅㊃", "politics"),
    ("8 9 6 4", "politics"),
    ("扫2维码", "ads"),
    ("扫二维码", "ads"),
    // Contact words.
    ("加微信", "contact"),
    ("加微 信", "contact"),
    ("VX号码多少", "contact"),
    ("加ｖｘ", "contact"),
    ("ⓋⓍ", "contact"),
    ("ＱＱ群", "contact"),
    // Digit runs (phone / QQ numbers).
    ("加我 138 1234 5678", "contact"),
    ("电话①③⑧①②③④⑤⑥⑦⑧", "contact"),
    ("幺三八 幺二三四 五六七八", "contact"),
    ("壹叁捌壹贰叁肆伍陆柒捌", "contact"),
    ("⓵⓷⓼⓵⓶⓷⓸⓹⓺⓻⓼", "contact"),
    (
        "1\u{200B}2\u{200B}3\u{200B}4\u{200B}5\u{200B}6\u{200B}7",
        "contact",
    ),
    // URLs.
    ("www.example.com", "url"),
    ("ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ", "url"),
    ("快来 https://x.io/abc", "url"),
    ("看 shop。taobao。com", "url"),
    ("abc点com", "url"),
    ("abc . com", "url"),
    ("t.cn/xyz", "url"),
];

/// Comments that must pass.
const INNOCENT: &[&str] = &[
    "class",
    "assistant",
    "passage",
    "classic bass guitar",
    "assassin",
    "Massachusetts",
    "embarrassed",
    "compass and glass",
    "shiitake mushrooms",
    "Scunthorpe",
    "Great quality, thanks!",
    "What's the price? Ship to Shanghai?",
    "I love this dress. Me too",
    "主播这个多少钱",
    "买了两件",
    "主播好漂亮",
    "这个颜色有货吗？",
    "已下单，期待发货",
    "2号链接还有吗",
    "价格 199 元",
    "三件打八折吗",
    "一二三上链接",
    "二手的吗",
    "第一次来直播间",
    "微笑 😊 感谢主播 ❤️",
    "老铁666",
    "有没有优惠券？",
    "今晚8点开播，12月25日见",
    "傻逼格",
    "",
    "   ",
];

#[test]
fn evasions_are_blocked_with_their_category() {
    let (global, room) = (common::global(), common::room());
    let policy = common::strict();
    let mut scanner = Scanner::new();
    let mut failures = Vec::new();
    for &(text, category) in EVASIONS {
        match scanner.check(text, &[&global, &room], &policy) {
            Verdict::Blocked { category: c } if c.as_str() == category => {}
            other => failures.push(format!(
                "{text:?} (folded {:?}): expected {category}, got {other:?}",
                scanner.folded().as_str()
            )),
        }
    }
    assert!(EVASIONS.len() >= 60);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn innocent_comments_pass() {
    let (global, room) = (common::global(), common::room());
    let policy = common::strict();
    let mut scanner = Scanner::new();
    let mut failures = Vec::new();
    for &text in INNOCENT {
        let v = scanner.check(text, &[&global, &room], &policy);
        if v != Verdict::Pass {
            failures.push(format!(
                "{text:?} (folded {:?}): {v:?} {:?}",
                scanner.folded().as_str(),
                scanner.hits()
            ));
        }
    }
    assert!(INNOCENT.len() >= 20);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! The evasions of the measured corpus: every listed word through every
//! evasion rule (noise between characters, letter and digit forms,
//! traditional characters, digits for letters), each in a chat context, and
//! hand-written evasions.

use super::common;

/// Chat contexts an evasion is put in (`{}` is the evasion).
const CONTEXTS: &[&str] = &[
    "{}",
    "有人{}吗",
    "{}私我",
    "找我{}，便宜",
    "兄弟们{} 走起",
    "这个{}真的假的",
    "主播说{}了",
    "哈哈哈{}！！",
];

/// Evasion rules that put noise between the characters of a word.
const SEPARATORS: &[&str] = &[
    " ", ".", "\u{200B}", "-", "*", "😀", "丶", "丨", "ー", "ㆍ", "ꞏ", "™", "℃", "㎏", "🇨🇳", "　",
    "~", "\u{200D}", "❤️", "/",
];

/// Small capitals, confusables and styled forms of ASCII letters.
fn letter_variants(c: char) -> [char; 4] {
    let i = (c as u8 - b'a') as usize;
    const SMALL: &str = "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡxʏᴢ";
    const CYRILLIC: &str = "аbсdеfghіјklmnорqrѕtuvwхуz";
    const CIRCLED: &str = "ⓐⓑⓒⓓⓔⓕⓖⓗⓘⓙⓚⓛⓜⓝⓞⓟⓠⓡⓢⓣⓤⓥⓦⓧⓨⓩ";
    const FULL: &str = "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ";
    let at = |s: &str| s.chars().nth(i).unwrap_or(c);
    [at(SMALL), at(CYRILLIC), at(CIRCLED), at(FULL)]
}

/// Digit forms: circled, full-width, Chinese numerals, financial numerals.
fn digit_variants(c: char) -> [char; 4] {
    let i = (c as u8 - b'0') as usize;
    let at = |s: &str| s.chars().nth(i).unwrap_or(c);
    [
        at("⓪①②③④⑤⑥⑦⑧⑨"),
        at("０１２３４５６７８９"),
        at("零一二三四五六七八九"),
        at("零壹贰叁肆伍陆柒捌玖"),
    ]
}

/// Traditional forms of some characters of the list.
fn traditional(c: char) -> char {
    match c {
        '刷' => '刷',
        '单' => '單',
        '代' => '代',
        '购' => '購',
        '兼' => '兼',
        '职' => '職',
        '傻' => '傻',
        '妈' => '媽',
        '轮' => '輪',
        '独' => '獨',
        '电' => '電',
        '报' => '報',
        '维' => '維',
        '码' => '碼',
        '仿' => '仿',
        '返' => '返',
        '头' => '頭',
        '约' => '約',
        '聊' => '聊',
        '赌' => '賭',
        '博' => '博',
        '彩' => '彩',
        '乐' => '樂',
        '脑' => '腦',
        '残' => '殘',
        '马' => '馬',
        other => other,
    }
}

/// Every listed word through every evasion rule, each in a context:
/// `(text, category)`.
pub fn evasions() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let mut k = 0;
    let mut put = |out: &mut Vec<(String, &'static str)>, e: String, cat: &'static str| {
        let ctx = CONTEXTS[k % CONTEXTS.len()];
        k += 1;
        out.push((ctx.replace("{}", &e), cat));
    };
    for (category, words) in common::LISTED {
        for word in *words {
            let chars: Vec<char> = word.chars().collect();
            for (n, sep) in SEPARATORS.iter().enumerate() {
                if n % 2 == word.len() % 2 || chars.len() <= 3 {
                    let e: Vec<String> = chars.iter().map(char::to_string).collect();
                    put(&mut out, e.join(sep), category);
                }
            }
            if word.is_ascii() {
                for v in 0..4 {
                    let e: String = chars
                        .iter()
                        .map(|&c| match c {
                            'a'..='z' => letter_variants(c)[v],
                            '0'..='9' => digit_variants(c)[v],
                            _ => c,
                        })
                        .collect();
                    put(&mut out, e, category);
                }
                put(&mut out, word.to_uppercase(), category);
                // Digits for the interior letters they look like (`sh1t`).
                let n = chars.len();
                let leet: String = chars
                    .iter()
                    .enumerate()
                    .map(|(k, &c)| match c {
                        'i' if k > 0 && k + 1 < n => '1',
                        'o' if k > 0 && k + 1 < n => '0',
                        'e' if k > 0 && k + 1 < n => '3',
                        'a' if k > 0 && k + 1 < n => '4',
                        's' if k > 0 && k + 1 < n => '5',
                        't' if k > 0 && k + 1 < n => '7',
                        _ => c,
                    })
                    .collect();
                if leet != *word {
                    put(&mut out, leet, category);
                }
            } else {
                let t: String = chars.iter().map(|&c| traditional(c)).collect();
                put(&mut out, t.clone(), category);
                let spaced: Vec<String> = t.chars().map(String::from).collect();
                put(&mut out, spaced.join("ー"), category);
            }
        }
    }
    for (text, cat) in HAND_EVASIONS {
        out.push(((*text).to_owned(), cat));
    }
    out
}

/// Hand-written evasions seen in live rooms.
const HAND_EVASIONS: &[(&str, &str)] = &[
    ("加我薇信 vx：abc123", "contact"),
    ("ＶＸ搜一下就有", "contact"),
    ("q q 群里有福利", "contact"),
    ("你个傻.逼主播", "abuse"),
    ("傻b……不对，傻逼", "abuse"),
    ("操 你 妈 的", "abuse"),
    ("草·泥·马", "abuse"),
    ("8⃣️9⃣️6⃣️4⃣️", "politics"),
    ("⑧⑨⑥④ 不能忘", "politics"),
    ("你真是个250", "abuse"),
    ("二百五? 不，你就是2 5 0", "abuse"),
    ("今晚419吗", "sex"),
    ("找人约 炮私聊", "sex"),
    ("卖大 麻的看过来", "drugs"),
    ("冰.毒 便宜出", "drugs"),
    ("真人百 家 乐，注册就送", "gambling"),
    ("刷 单 日结 三百", "ads"),
    ("兼-职刷-单，在家就能做", "ads"),
    ("高仿包包找我", "ads"),
    ("扫二维码领红包", "ads"),
    ("扫貳維碼领红包", "ads"),
    ("代 购 正品", "ads"),
    ("ꜰuck this", "abuse"),
    ("ꜱhit product", "abuse"),
    ("ᏴᎥᎢᏟᎻ", "abuse"),
    ("ᴄᴀꜱɪɴᴏ bonus", "ads"),
    ("𝕧𝕚𝕒𝕘𝕣𝕒 cheap", "ads"),
    ("电报群拉你", "contact"),
    ("加V私聊", "contact"),
    ("台🇹🇼独", "politics"),
    ("加微❤信", "contact"),
    ("VX号在主页", "contact"),
    ("ｑｑ１２３４５６７８", "contact"),
    ("扫②维码", "ads"),
    ("刷·单返利", "ads"),
    ("兼职刷单日入500", "ads"),
    ("来买大麻吗", "drugs"),
    ("大.麻有货", "drugs"),
    ("你个煞笔", "abuse"),
    ("250主播", "abuse"),
    ("8 ⑨ 6 4", "politics"),
    ("八⑨陆4", "politics"),
    ("六 四", "politics"),
    ("台、独", "politics"),
    ("c a s i n o", "ads"),
    ("加Ｖ", "contact"),
    ("ꜰᴜᴄᴋ ʏᴏᴜ", "abuse"),
    ("傻丨逼", "abuse"),
    ("f™uck", "abuse"),
];

//! Shared fixtures for the integration tests: a small global dictionary and
//! a room dictionary covering every category.
#![allow(dead_code)]

use wordfilter::{Dictionary, Policy};

/// The global test dictionary.
pub fn global() -> Dictionary {
    let mut b = Dictionary::builder();
    for w in ["fuck", "ass", "shit", "bitch", "傻逼", "操你妈"] {
        b.word(w, "abuse");
    }
    for w in ["法轮功", "台独", "8964"] {
        b.word(w, "politics");
    }
    for w in ["微信", "vx", "qq"] {
        b.word(w, "contact");
    }
    b.allow("assassin")
        .allow("傻逼格")
        .build()
        .expect("test dictionary builds")
}

/// A room dictionary (the anchor's own words).
pub fn room() -> Dictionary {
    let mut b = Dictionary::builder();
    for w in ["代购", "刷单", "兼职", "casino", "viagra", "二维码"] {
        b.word(w, "ads");
    }
    b.build().expect("room dictionary builds")
}

/// A blocking policy with both detectors on.
pub fn strict() -> Policy {
    Policy::block().with_digit_runs(7).with_urls()
}

/// The words of the measured corpus: a realistic global list of a
/// live-commerce platform, by category.
pub const LISTED: &[(&str, &[&str])] = &[
    (
        "abuse",
        &[
            "fuck",
            "shit",
            "bitch",
            "傻逼",
            "操你妈",
            "草泥马",
            "煞笔",
            "脑残",
            "250",
        ],
    ),
    ("politics", &["法轮功", "台独", "8964", "六四"]),
    ("contact", &["微信", "vx", "qq", "加v", "电报群"]),
    (
        "ads",
        &[
            "代购",
            "刷单",
            "兼职",
            "casino",
            "viagra",
            "二维码",
            "高仿",
            "返利",
        ],
    ),
    ("drugs", &["大麻", "冰毒", "摇头丸"]),
    ("sex", &["约炮", "色情", "裸聊", "419"]),
    ("gambling", &["赌博", "博彩", "百家乐"]),
];

/// The corpus dictionary: [`LISTED`] (the shipped default allow-list is
/// included by default).
pub fn listed() -> Dictionary {
    let mut b = Dictionary::builder();
    for (category, words) in LISTED {
        for w in *words {
            b.word(w, *category);
        }
    }
    b.build().expect("corpus dictionary builds")
}

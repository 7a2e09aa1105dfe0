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

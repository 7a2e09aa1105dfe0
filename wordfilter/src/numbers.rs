//! The number rule for words that contain digits, and the shape tests the
//! digit-run detector uses (decimal points, dates, labelled order numbers,
//! mobile numbers). Everything reads the folded text, where every digit form
//! is already an ASCII digit and noise is remembered as gap bits.

use crate::fold::FoldedText;
use crate::table::{GAP_COLON_SLASH, GAP_COMMA, GAP_DOT, GAP_MEASURE, GAP_SILENT, GAP_SPACE};
use crate::units;

fn digit(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// The gap between two digits keeps them in one number: nothing, an
/// invisible character, a dot, a comma, a colon or a slash (`1299`, `2.50`,
/// `1,299`, `20:00`, `1/250`).
pub(crate) fn joins(gap: u8) -> bool {
    gap & !(GAP_SILENT | GAP_DOT | GAP_COMMA | GAP_COLON_SLASH) == 0
}

/// The kind of a joint between two digits: a dot, or a colon or slash, and
/// nothing else visible.
fn joint_kind(gap: u8) -> Option<u8> {
    let g = gap & !GAP_SILENT;
    (g == GAP_DOT || g == GAP_COLON_SLASH).then_some(g)
}

/// Whether the gap between the digits at `p - 1` and `p` joins two numbers
/// into one figure: a decimal point (`2.50`, `4.19`), a time, date or
/// fraction (`6:40`, `6/4`, `1/2`). Both digits are written as ASCII digits
/// (not `六.四` or `⑧.⑨`), and the chain of digit groups joined by that kind
/// of joint around it has exactly two groups; in a longer chain
/// (`8.9.6.4`, `8/9/6/4`, `192.168.1.1`) the joints are spelling noise or
/// separators.
pub(crate) fn is_decimal_point(t: &FoldedText, p: usize) -> bool {
    let b = t.as_str().as_bytes();
    if p == 0 || !digit(b, p - 1) || !digit(b, p) {
        return false;
    }
    let Some(kind) = joint_kind(t.gap_at(p)) else {
        return false;
    };
    if !t.is_ascii_source(p - 1) || !t.is_ascii_source(p) {
        return false;
    }
    let mut g = p - 1;
    while g > 0 && digit(b, g - 1) && t.gap_at(g) & !GAP_SILENT == 0 {
        g -= 1;
    }
    if g > 0 && digit(b, g - 1) && joint_kind(t.gap_at(g)) == Some(kind) {
        return false;
    }
    let mut h = p + 1;
    while digit(b, h) && t.gap_at(h) & !GAP_SILENT == 0 {
        h += 1;
    }
    !(digit(b, h) && joint_kind(t.gap_at(h)) == Some(kind))
}

/// The folded character ending just before byte `pos`.
fn char_before(t: &FoldedText, pos: usize) -> Option<char> {
    t.as_str().get(..pos)?.chars().next_back()
}

/// The folded character starting at byte `pos`.
fn char_at(t: &FoldedText, pos: usize) -> Option<char> {
    t.as_str().get(pos..)?.chars().next()
}

/// Whether the number starting at `start` is a quantity by what precedes
/// it: a currency sign, or a price or count marker (`满 减 价 第 约`…)
/// with at most spaces in between.
pub(crate) fn quantity_before(t: &FoldedText, start: usize) -> bool {
    let gap = t.gap_at(start);
    if gap & GAP_MEASURE != 0 {
        return true;
    }
    gap & !(GAP_SILENT | GAP_SPACE) == 0
        && char_before(t, start).is_some_and(units::is_quantity_marker)
}

/// Whether the number ending at `end` is a quantity by what follows it: a
/// currency, percent or unit sign, or a unit (`元 克 件 号`…, or an ASCII
/// unit `cm kg ml gb`…) with at most spaces in between.
pub(crate) fn quantity_after(t: &FoldedText, end: usize) -> bool {
    let gap = t.gap_at(end);
    if gap & GAP_MEASURE != 0 {
        return true;
    }
    if gap & !(GAP_SILENT | GAP_SPACE) != 0 {
        return false;
    }
    if char_at(t, end).is_some_and(units::is_unit) {
        return true;
    }
    // An ASCII unit after a space (`64 cm`): the letters up to the next
    // separator or non-letter.
    let b = t.as_str().as_bytes();
    let mut k = end;
    while k < b.len() && b[k].is_ascii_lowercase() && (k == end || t.gap_at(k) & !GAP_SILENT == 0) {
        k += 1;
    }
    k > end && t.as_str().get(end..k).is_some_and(units::is_ascii_unit)
}

/// The number rule: a match `start..end` of a word containing digits
/// stands for a whole number and not a quantity. At a digit edge of the
/// match, the neighbour must not be a digit joined to it (nothing, an
/// invisible character, a dot, comma, colon or slash between them), and the
/// number must not be a quantity (a currency or percent sign, a price or
/// count marker before it, a unit after it); inside the match no decimal
/// point, time, date or fraction joint may lie between two digits. So `250` hits `你是250吧` and `2 5 0`, but not
/// `单价2.50元`, `1250`, `250克`, `¥250`; `419` does not hit `4.19`.
pub(crate) fn whole_number(t: &FoldedText, start: usize, end: usize) -> bool {
    let b = t.as_str().as_bytes();
    if digit(b, start) {
        if start > 0 && digit(b, start - 1) && joins(t.gap_at(start)) {
            return false;
        }
        if quantity_before(t, start) {
            return false;
        }
    }
    if end > 0 && digit(b, end - 1) {
        if digit(b, end) && joins(t.gap_at(end)) {
            return false;
        }
        if quantity_after(t, end) {
            return false;
        }
    }
    !(start + 1..end).any(|p| is_decimal_point(t, p))
}

/// Whether the digit run starting at `start` is labelled as an order,
/// tracking or article number (`订单号 2024…`, `快递单号是 SF…`, `货号…`).
pub(crate) fn labelled_number(t: &FoldedText, start: usize) -> bool {
    const LABELS: &[&str] = &[
        "单号",
        "订单",
        "运单",
        "快递",
        "物流",
        "编号",
        "货号",
        "型号",
        "批号",
        "条码",
        "款号",
        "序列号",
        "工号",
        "尾号",
    ];
    let s = t.as_str();
    let before = s.get(..start).unwrap_or("");
    // A carrier prefix of letters (`SF`, `YT`) belongs to the number.
    let before = before.trim_end_matches(|c: char| c.is_ascii_lowercase());
    let before = before.strip_suffix('是').unwrap_or(before);
    let before = before.strip_suffix('为').unwrap_or(before);
    LABELS.iter().any(|l| before.ends_with(l))
}

/// Whether `digits` (one run, noise dropped) has the shape of a mainland
/// mobile number: 11 digits, `1` then `3`–`9`.
pub(crate) fn is_mobile(digits: &[u8]) -> bool {
    digits.len() == 11 && digits[0] == b'1' && (b'3'..=b'9').contains(&digits[1])
}

/// Whether the digit groups (digits between two separators) of a run
/// begin with a date: year `19xx`/`20xx`, month 1–12, day 1–31, as in
/// `2024-12-25`, `2024.1.5`, `2024/12/25`. Returns how many groups it takes.
pub(crate) fn date_groups(groups: &[&[u8]]) -> usize {
    let num = |g: &[u8]| g.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    match groups {
        [y, m, d, ..]
            if y.len() == 4
                && (y.starts_with(b"19") || y.starts_with(b"20"))
                && (1..=2).contains(&m.len())
                && (1..=2).contains(&d.len())
                && (1..=12).contains(&num(m))
                && (1..=31).contains(&num(d)) =>
        {
            3
        }
        _ => 0,
    }
}

//! Small hand-written character maps used when the fold table is built:
//! look-alike letters, Chinese numerals, digit forms NFKC leaves alone, and
//! invisible format characters.

/// Upper-case letters of other scripts that look like a Latin capital. They
/// are mapped before lower-casing, because their lower-case forms can look
/// different (Greek `Η` looks like `H`, its lower case `η` like `n`).
pub(crate) fn confusable_upper(c: char) -> Option<char> {
    Some(match c {
        // Greek capitals.
        'Α' => 'a',
        'Β' => 'b',
        'Ε' => 'e',
        'Ζ' => 'z',
        'Η' => 'h',
        'Ι' => 'i',
        'Κ' => 'k',
        'Μ' => 'm',
        'Ν' => 'n',
        'Ο' => 'o',
        'Ρ' => 'p',
        'Τ' => 't',
        'Υ' => 'y',
        'Χ' => 'x',
        // Cyrillic capitals.
        'А' => 'a',
        'В' => 'b',
        'Е' => 'e',
        'К' => 'k',
        'М' => 'm',
        'Н' => 'h',
        'О' => 'o',
        'Р' => 'p',
        'С' => 'c',
        'Т' => 't',
        'Х' => 'x',
        'У' => 'y',
        'Ѕ' => 's',
        'І' => 'i',
        'Ј' => 'j',
        'Ԁ' => 'd',
        'Ԛ' => 'q',
        'Ԝ' => 'w',
        'Ѵ' => 'v',
        _ => return None,
    })
}

/// Lower-case letters of other scripts (and Latin oddities without a
/// compatibility decomposition) that look like a Latin small letter.
pub(crate) fn confusable_lower(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic.
        'а' => 'a',
        'в' => 'b',
        'е' => 'e',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'п' => 'n',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'ѕ' => 's',
        'і' => 'i',
        'ј' => 'j',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'һ' => 'h',
        'ӏ' => 'l',
        'ү' => 'y',
        'ѵ' => 'v',
        // Greek.
        'α' => 'a',
        'β' => 'b',
        'γ' => 'y',
        'ε' => 'e',
        'ζ' => 'z',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'μ' => 'u',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'ω' => 'w',
        // Armenian.
        'օ' => 'o',
        'ս' => 'u',
        // Latin letters without a decomposition to a plain letter.
        'ı' | 'ɩ' | 'ɪ' | 'ɨ' => 'i',
        'ɑ' | 'ᴀ' => 'a',
        'ʙ' | 'ƀ' => 'b',
        'ᴄ' => 'c',
        'ᴅ' | 'đ' => 'd',
        'ᴇ' => 'e',
        'ɡ' | 'ɢ' => 'g',
        'ʜ' | 'ħ' => 'h',
        'ᴊ' => 'j',
        'ᴋ' => 'k',
        'ʟ' | 'ł' => 'l',
        'ᴍ' => 'm',
        'ɴ' => 'n',
        'ᴏ' | 'ø' => 'o',
        'ᴘ' => 'p',
        'ʀ' => 'r',
        'ꜱ' => 's',
        'ᴛ' | 'ŧ' => 't',
        'ᴜ' => 'u',
        'ᴠ' => 'v',
        'ᴡ' => 'w',
        'ʏ' => 'y',
        'ᴢ' => 'z',
        // Small capitals and other Latin letter variants that neither NFKD
        // nor the confusables data map to a plain letter.
        'ꜰ' | 'ꝼ' | 'ꞙ' => 'f',
        'ꞯ' => 'q',
        'ĸ' => 'k',
        'ᴁ' | 'ᴂ' => 'a',
        'ᴆ' | 'ꝺ' => 'd',
        'ᴌ' => 'l',
        'ᴎ' => 'n',
        'ᴙ' | 'ꞃ' | 'ꝛ' => 'r',
        'ᴚ' => 'r',
        'ꞅ' | 'ſ' => 's',
        'ꞇ' => 't',
        'ꟺ' => 'm',
        'ꭇ' | 'ꭈ' => 'r',
        'ꭐ' => 'u',
        'ꝩ' => 'v',
        'ꝡ' => 'w',
        _ => return None,
    })
}

/// Chinese numerals (simplified forms; traditional ones are simplified first)
/// folded to ASCII digits. `十`, `百`, `两` are deliberately not folded: they are
/// not digits of a spelled-out number and are common in ordinary comments.
pub(crate) fn chinese_digit(c: char) -> Option<char> {
    Some(match c {
        '零' | '〇' => '0',
        '一' | '壹' | '弌' | '幺' => '1',
        '二' | '贰' | '弍' => '2',
        '三' | '叁' | '弎' => '3',
        '四' | '肆' => '4',
        '五' | '伍' => '5',
        '六' | '陆' => '6',
        '七' | '柒' => '7',
        '八' | '捌' => '8',
        '九' | '玖' => '9',
        _ => return None,
    })
}

/// Digit forms that NFKC does not decompose (dingbat and negative circled
/// digits), as the number they show.
pub(crate) fn special_number(c: char) -> Option<u32> {
    let n = c as u32;
    Some(match n {
        0x24FF | 0x1F10B | 0x1F10C => 0,          // ⓿ 🄋 🄌
        0x24EB..=0x24F4 => n - 0x24EB + 11,       // ⓫..⓴
        0x24F5..=0x24FE => n - 0x24F5 + 1,        // ⓵..⓾
        0x2776..=0x277F => n - 0x2776 + 1,        // ❶..❿
        0x2780..=0x2789 => n - 0x2780 + 1,        // ➀..➉
        0x278A..=0x2793 => n - 0x278A + 1,        // ➊..➓
        0x3248..=0x324F => (n - 0x3248 + 1) * 10, // ㉈..㉏
        _ => return None,
    })
}

/// Enclosed Latin letters that NFKC does not decompose (negative circled and
/// squared letters, regional indicators), as the lower-case letter.
pub(crate) fn special_letter(c: char) -> Option<char> {
    let n = c as u32;
    let k = match n {
        0x1F150..=0x1F169 => n - 0x1F150, // 🅐..🅩
        0x1F170..=0x1F189 => n - 0x1F170, // 🅰..🆉
        0x1F1E6..=0x1F1FF => n - 0x1F1E6, // 🇦..🇿
        _ => return None,
    };
    char::from_u32(u32::from(b'a') + k)
}

/// Decimal digits of other scripts (those without a compatibility mapping to
/// ASCII), as the digit value.
pub(crate) fn script_digit(c: char) -> Option<u32> {
    const ZEROS: [u32; 20] = [
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
        0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x17E0, 0x1810, 0x1946,
    ];
    let n = c as u32;
    ZEROS
        .iter()
        .find(|&&z| (z..z + 10).contains(&n))
        .map(|&z| n - z)
}

/// Invisible characters that are skipped without counting as a word
/// separator: zero-width and format characters, fillers, tag characters.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F
            | 0x1160
            | 0x17B4
            | 0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF9..=0xFFFB
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    ) || c.is_control() && !c.is_whitespace()
}

/// CJK and other letters commonly typed as separators between the
/// characters of a word (`傻丶逼`, `刷丨单`, `代ー购`): folded as noise,
/// like punctuation.
pub(crate) fn is_cjk_separator(c: char) -> bool {
    matches!(
        c,
        '丶' | '丨'
            | '丿'
            | '亅'
            | '乀'
            | '乁'
            | 'ー'
            | 'ｰ'
            | 'ㆍ'
            | 'ᆞ'
            | 'ꞏ'
            | 'ヽ'
            | 'ヾ'
            | 'ゝ'
            | 'ゞ'
            | '〃'
            | '々'
            | '〆'
    )
}

/// Regional indicators (`🇦`…`🇿`): the two halves of a flag emoji.
pub(crate) fn is_regional_indicator(c: char) -> bool {
    matches!(c as u32, 0x1F1E6..=0x1F1FF)
}

/// Letter-like symbols and unit signs used as noise (`™ ℃ ℡ № ㎏ ㎡ 🄭`):
/// symbols whose compatibility decomposition is not one letter or digit.
/// `decomposed` is the NFKD form with combining marks dropped. Single styled
/// letters (`ℱ ℎ Ⓕ 🄰`) and enclosed numbers (`① ㉑ ㈤`) are kept.
pub(crate) fn is_symbol_noise(c: char, decomposed: &str) -> bool {
    let letters = decomposed.chars().filter(|d| d.is_alphabetic()).count();
    let alnum = decomposed.chars().filter(|d| d.is_alphanumeric()).count();
    let chars = decomposed.chars().count();
    match c as u32 {
        // Letterlike symbols: keep only a single styled letter.
        0x2100..=0x214F => !(chars == 1 && letters == 1),
        // Squared units and era names.
        0x3300..=0x33FF => chars > 1,
        // Enclosed CJK and enclosed alphanumerics: two or more letters.
        0x3200..=0x32FF | 0x1F100..=0x1F1E5 => letters >= 2 || (alnum == 0 && chars > 0),
        _ => false,
    }
}

/// Punctuation that reads as a dot in a domain name.
pub(crate) fn is_dot_like(c: char) -> bool {
    matches!(
        c,
        '.' | '。' | '｡' | '．' | '·' | '・' | '•' | '‧' | '∙' | '⋅'
    )
}

/// Punctuation that can be part of a URL scheme separator (`://`).
pub(crate) fn is_colon_slash(c: char) -> bool {
    matches!(c, ':' | '/' | '：' | '／' | '\\' | '＼')
}

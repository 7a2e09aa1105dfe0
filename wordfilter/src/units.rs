//! The characters the number rule reads around a number: currency and
//! percent signs, units and measure words after it, price, count and label
//! markers before it, ASCII units after a space.

/// Currency and percent signs: a number next to one is a quantity.
pub(crate) fn is_measure_sign(c: char) -> bool {
    matches!(
        c,
        '$' | '¥' | '￥' | '€' | '£' | '＄' | '￡' | '₩' | '₹' | '฿' | '%' | '％' | '‰'
    )
}

/// Folded characters that make the number just before them a quantity:
/// currency, weight, length, volume, count and time units, measure words.
pub(crate) fn is_unit(c: char) -> bool {
    matches!(
        c,
        '元' | '块'
            | '角'
            | '毛'
            | '分'
            | '克'
            | '斤'
            | '两'
            | '吨'
            | '件'
            | '个'
            | '只'
            | '条'
            | '包'
            | '瓶'
            | '盒'
            | '袋'
            | '箱'
            | '套'
            | '双'
            | '对'
            | '码'
            | '号'
            | '寸'
            | '度'
            | '折'
            | '米'
            | '升'
            | '毫'
            | '厘'
            | '岁'
            | '年'
            | '月'
            | '日'
            | '天'
            | '点'
            | '秒'
            | '时'
            | '周'
            | '万'
            | '千'
            | '百'
            | '十'
            | '亿'
            | '倍'
            | '次'
            | '位'
            | '名'
            | '人'
            | '份'
            | '张'
            | '台'
            | '部'
            | '款'
            | '种'
            | '期'
            | '楼'
            | '层'
            | '平'
            | '罐'
            | '片'
            | '粒'
            | '颗'
            | '支'
            | '杯'
            | '卡'
            | '级'
            | '页'
            | '单'
            | '磅'
            | '尺'
            | '粉'
            | '赞'
            | '集'
            | '场'
            | '路'
            | '章'
            | '题'
            | '栋'
            | '幢'
            | '室'
            | '户'
            | '站'
            | '瓦'
            | '根'
            | '枚'
            | '辆'
            | '本'
            | '束'
            | '朵'
            | '把'
            | '盆'
            | '桶'
            | '副'
            | '串'
            | '排'
            | '盘'
            | '碗'
            | '锅'
            | '卷'
            | '组'
            | '批'
            | '届'
            | '代'
            | '色'
            | '帧'
    )
}

/// Folded characters that make the number just after them a price, a
/// count or a label: `满100` `减50` `单价250` `第3` `约200` `共12` `仅99`
/// `送2` `尾号8964` `库存250` `数量419`.
pub(crate) fn is_quantity_marker(c: char) -> bool {
    matches!(
        c,
        '满' | '减'
            | '价'
            | '第'
            | '约'
            | '共'
            | '仅'
            | '售'
            | '送'
            | '返'
            | '省'
            | '降'
            | '付'
            | '券'
            | '原'
            | '补'
            | '秒'
            | '拍'
            | '买'
            | '卖'
            | '到'
            | '重'
            | '高'
            | '长'
            | '宽'
            | '身'
            | '体'
            | '腰'
            | '胸'
            | '码'
            | '号'
            | '存'
            | '量'
            | '数'
            | '额'
            | '率'
            | '款'
            | '余'
            | '剩'
            | '近'
            | '超'
            | '差'
            | '编'
            | '尾'
            | '围'
    )
}

/// ASCII units written after a number and a space (`64 cm`, `250 ml`,
/// `64 GB`): the folded letters that follow.
pub(crate) fn is_ascii_unit(letters: &str) -> bool {
    matches!(
        letters,
        "cm" | "mm"
            | "m"
            | "km"
            | "kg"
            | "g"
            | "mg"
            | "ml"
            | "l"
            | "w"
            | "kw"
            | "mah"
            | "gb"
            | "tb"
            | "mb"
            | "k"
            | "ft"
            | "inch"
            | "oz"
            | "lb"
            | "lbs"
            | "pcs"
            | "pc"
            | "yuan"
            | "rmb"
            | "usd"
            | "min"
            | "hz"
    )
}

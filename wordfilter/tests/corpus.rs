//! The measured corpus: evasions of a realistic word list (every listed
//! word run through every evasion rule, in chat contexts) and innocent
//! live-commerce sentences (prices, sizes, dates, order numbers, product
//! names, hand-written chat). Prints recall and the false-positive rate and
//! asserts the targets (recall >= 99%, false positives <= 1%).

mod common;

use wordfilter::{Scanner, Verdict};

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
fn evasions() -> Vec<(String, &'static str)> {
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

/// Product names of the innocent templates (some contain a listed word's
/// characters across a word boundary, or inside an ordinary compound).
const PRODUCTS: &[&str] = &[
    "牙刷",
    "电动牙刷",
    "大麻花",
    "天津麻花",
    "口红",
    "面膜",
    "羽绒服",
    "连衣裙",
    "运动鞋",
    "保温杯",
    "洗发水",
    "牛肉干",
    "坚果礼盒",
    "四件套",
    "单词卡",
    "消毒液",
    "水枪",
    "QQ糖",
    "卫衣",
    "牛仔裤",
    "充电宝",
    "蓝牙耳机",
    "空气炸锅",
    "鞋刷",
    "儿童牙刷",
    "大麻袋",
    "平台独家款",
];

/// Templates of the innocent sentences (`{p}` product, `{n}` a number
/// text from [`NUMBERS`], `{d}` a date, `{o}` an order number).
const TEMPLATES: &[&str] = &[
    "这个{p}单价多少",
    "{p}单价{n}元吗",
    "{p}现在{n}元包邮吗",
    "满{n}减20的{p}还有吗",
    "{p}{n}克装的有吗",
    "{d}买的{p}还没发货",
    "订单号{o}，{p}什么时候到",
    "{p}是平台独家的吗",
    "主播，{p}多少钱一件",
    "{p}拍了，{n}元对吗",
    "我要{p}，{n}号链接",
    "{p}第{n}单已付款",
];

const NUMBERS: &[&str] = &[
    "2.50", "4.19", "19.9", "250", "99", "1299", "89.64", "419", "2.5", "12.99", "1,299", "419.00",
    "64", "8.9", "100", "25", "500",
];

const DATES: &[&str] = &[
    "2024-12-25",
    "2025.1.5",
    "12月25日",
    "2024/11/11",
    "6月4日",
    "8月9日",
    "昨天",
    "上周五",
];

const ORDERS: &[&str] = &[
    "2024122512345678",
    "8964123456789",
    "SF1234567890123",
    "YT9876543210",
    "250419000123",
];

/// Hand-written innocent chat.
const HAND_INNOCENT: &[&str] = &[
    "这个牙刷单价多少",
    "单价2.50元",
    "天津大麻花好吃吗",
    "大麻花多少钱一袋",
    "这个真是大麻烦了",
    "刷单词的软件推荐一下",
    "平台独家首发！",
    "舞台独唱太好听了",
    "后台独立发货吗",
    "买了消毒品，明天到",
    "QQ糖还有草莓味吗",
    "水枪玩具有大号的吗",
    "今晚8点开播，12月25日见",
    "价格 199 元",
    "身高165体重110斤穿什么码",
    "身高 170 cm 体重 60 kg 穿 L 码吗",
    "尺码 S M L XL 都有",
    "腰围 2尺4 能穿吗",
    "250克装的有吗",
    "满100元减20",
    "满 300 减 50，再叠加券",
    "第250单已下",
    "到手价 4.19 元",
    "原价 89.64，现价 64.00",
    "¥250 包邮",
    "$419 贵了",
    "打8.9折",
    "折后 2.50 一支",
    "订单号：2024122512345678",
    "我的快递单号是 SF1234567890123",
    "物流单号 YT9876543210 一直没更新",
    "货号 89641234 还有货吗",
    "2024-12-25 下的单",
    "2025.01.05 到货",
    "2024/11/11 双十一买的",
    "12.12 活动还有吗",
    "6.18 的价格会更低吗",
    "第一次来直播间",
    "老铁666",
    "主播好美",
    "上链接！",
    "2号链接还有吗",
    "3号链接拍了",
    "已拍，麻烦尽快发货",
    "有没有优惠券？",
    "一二三上链接",
    "三件打八折吗",
    "库存还有多少",
    "能便宜点吗",
    "包邮吗",
    "偏远地区包邮吗",
    "什么时候发货",
    "七天无理由退货吗",
    "这款有黑色吗",
    "颜色有几种",
    "有没有大码",
    "XL码还有吗",
    "宝宝能用吗",
    "孕妇能用吗",
    "保质期多久",
    "生产日期是什么时候",
    "是正品吗",
    "有发票吗",
    "可以开发票吗",
    "口红色号是多少",
    "这个色号适合黄皮吗",
    "麻烦主播试一下红色",
    "想看一下细节",
    "面料是纯棉的吗",
    "含棉量多少",
    "洗了会缩水吗",
    "会起球吗",
    "鞋码偏大还是偏小",
    "平时穿38码拍哪个",
    "脚宽拍大一码吗",
    "电池容量 10000 毫安",
    "充电宝 20000mAh 能带上飞机吗",
    "功率 1500W 费电吗",
    "尺寸 120 x 200 cm",
    "1.5米的床用哪个",
    "1.8m 床单有吗",
    "4.19 号的单还没发",
    "买二送一吗",
    "第二件半价吗",
    "两件 99 元",
    "三盒 129",
    "一箱 24 瓶",
    "每天 250ml 够吗",
    "一次 2 粒",
    "保温 12 小时吗",
    "主播身高多少",
    "主播穿的什么码",
    "主播 165 cm 穿 M 吗",
    "刚刚那个 2.50 的还有吗",
    "¥19.9 的那个",
    "好评返现吗",
    "直播间福利什么时候发",
    "抽奖什么时候开始",
    "点赞点赞",
    "已关注主播",
    "谢谢主播",
    "主播辛苦了",
    "晚上好",
    "来了来了",
    "这个牙刷单支装吗",
    "牙刷单买可以吗",
    "儿童牙刷单价是多少",
    "电动牙刷单价贵吗",
    "鞋刷单独卖吗",
    "想要一把牙刷",
    "天津大麻花和麻花有什么区别",
    "大麻袋装得下吗",
    "平台独家价格",
    "这个平台独有的款式",
    "刷单曲循环一整天",
    "考研刷单词用哪个",
    "洗碗机能消毒品质怎么样",
    "微笑 😊 感谢主播 ❤️",
    "好看！💯",
    "🇨🇳 加油",
    "中国🇨🇳制造",
    "™ 正品授权",
    "温度 25℃ 合适吗",
    "5㎏ 装的有吗",
    "丶主播好",
    "哈哈丨哈哈",
    "class 的课程",
    "assistant 主播助理",
    "Great quality, thanks!",
    "What's the price?",
    "ship to Shanghai?",
    "I love this dress",
    "很 好 用",
    "性价比很高",
    "拍了两件",
    "回购第三次了",
    "质量怎么样",
    "味道怎么样",
    "辣不辣",
    "甜不甜",
    "有试吃装吗",
    "能寄到香港吗",
    "海外能发吗",
    "台湾能发货吗",
    "独立包装吗",
    "是独立包装的吗",
    "单独包装吗",
    "代言人是谁",
    "购买链接在哪",
    "代付可以吗",
    "兼容苹果手机吗",
    "职场穿搭推荐",
    "大码女装有吗",
    "麻质的吗",
    "刷子送吗",
    "单价便宜",
    "单品推荐",
    "博主推荐的",
    "彩色款有吗",
    "色彩好看",
    "情侣款有吗",
    "特色情侣装",
    "聊天框看不到",
    "约好了明天买",
    "炮仗花种子有吗",
    "冰箱贴多少钱",
    "毒舌测评",
    "头发干枯用什么",
    "摇头风扇有吗",
    "丸子头发夹",
    "赌一把，拍了",
    "微型风扇",
    "信用卡能付吗",
    "电报价格是多少",
    "扫码付款可以吗",
    "6/4 之前能到吗",
    "11/11 那天买的",
    "今晚 20:00 开抢",
    "手机尾号 8964 的宝宝中奖了",
    "库存还剩 250 件",
    "数量 419 个",
    "3 栋 250 室收",
    "快门 1/250 够用吗",
    "比例 6:4 的沙发",
    "64G 内存够用吗",
    "iPhone 15 Pro 256G",
    "电脑 8G+512G",
    "250ml 小瓶装",
    "4.19 的那款有吗",
    "画面很逼真",
    "操作简单吗",
    "体操服有吗",
    "干净卫生",
    "Galaxy A55 有现货吗",
    "mp3 播放器",
    "iphone15 pro 256G",
    "4k 显示器",
    "s10e 还有吗",
    "b2b 批发价",
    "x1s 扫地机",
    "这款刷子单价多少",
    "电动牙刷单头多少钱",
    "牙刷单独买可以吗",
    "我要两支牙刷单独包装",
    "天津麻花和大麻花一样吗",
    "麻辣大麻花来一袋",
    "这是大麻布袋吗",
    "平台独享价",
    "舞台独白",
    "这台独轮车多少钱",
    "烟台独家代理",
    "微博上看到的",
    "信用卡分期",
    "代工厂直发",
    "购物车里有了",
    "兼容性好吗",
    "职业装有吗",
    "二手的吗",
    "维码多少",
    "仿真花多少钱",
    "高清版本",
    "返现多少",
    "利润很低",
    "冰箱多大",
    "毒舌主播哈哈",
    "头盔有吗",
    "丸子好吃",
    "约会穿什么",
    "炮竹能寄吗",
    "色差大吗",
    "情人节礼物",
    "裸色口红",
    "聊天记录",
    "赌气买了",
    "博物馆联名款",
    "彩妆套装",
    "百家姓抱枕",
    "乐高积木",
    "家乐福有卖吗",
    "脑子不够用了哈哈",
    "残次品能退吗",
    "草莓甜吗",
    "泥膜好用吗",
    "马甲线",
    "单价 2.5 元一支",
    "单价¥4.19",
    "第 250 位下单的有奖",
    "价格 8964 日元",
    "满 250 减 50",
    "250 克一袋",
    "8,964 件已售",
    "已售 4.19 万件",
    "2024年6月4日发货",
    "64 色眼影盘",
    "送 64 张贴纸",
    "型号 X250",
    "订单编号 2501234567",
    "运单号 YT1234567890123",
    "尺码表：S 155-160，M 160-165，L 165-170",
    "价格：199/299/399",
    "3件8.9折",
    "主播身高168体重98斤",
    "腰围 64 cm",
    "胸围 84 穿什么码",
];

/// The innocent corpus: the templates filled in (product, number, date and
/// order number in rotation) and the hand-written chat.
fn innocent() -> Vec<String> {
    let mut out: Vec<String> = HAND_INNOCENT.iter().map(|s| (*s).to_owned()).collect();
    let mut k = 0usize;
    for t in TEMPLATES {
        for p in PRODUCTS {
            let fill = t
                .replace("{p}", p)
                .replace("{n}", NUMBERS[k % NUMBERS.len()])
                .replace("{d}", DATES[k % DATES.len()])
                .replace("{o}", ORDERS[k % ORDERS.len()]);
            k += 1;
            if k.is_multiple_of(2) || t.contains("单价") {
                out.push(fill);
            }
        }
    }
    out
}

#[test]
fn recall_and_false_positives_meet_the_targets() {
    let dict = common::listed();
    let policy = common::strict();
    let mut scanner = Scanner::new();
    let evasions = evasions();
    let mut missed = Vec::new();
    for (text, category) in &evasions {
        match scanner.check(text, &[&dict], &policy) {
            Verdict::Blocked { category: c } if c.as_str() == *category => {}
            other => missed.push(format!(
                "{text:?} (folded {:?}): expected {category}, got {other:?}",
                scanner.folded().as_str()
            )),
        }
    }
    let innocent = innocent();
    let mut blocked = Vec::new();
    for text in &innocent {
        let v = scanner.check(text, &[&dict], &policy);
        if v != Verdict::Pass {
            blocked.push(format!(
                "{text:?} (folded {:?}): {v:?}",
                scanner.folded().as_str()
            ));
        }
    }
    let recall = 1.0 - missed.len() as f64 / evasions.len() as f64;
    let fp = blocked.len() as f64 / innocent.len() as f64;
    println!(
        "evasions: {} caught of {} (recall {:.2}%); innocent: {} blocked of {} (false positives {:.2}%)",
        evasions.len() - missed.len(),
        evasions.len(),
        recall * 100.0,
        blocked.len(),
        innocent.len(),
        fp * 100.0
    );
    println!("missed:\n{}", missed.join("\n"));
    println!("blocked:\n{}", blocked.join("\n"));
    assert!(evasions.len() >= 300, "only {} evasions", evasions.len());
    assert!(
        innocent.len() >= 300,
        "only {} innocent texts",
        innocent.len()
    );
    assert!(recall >= 0.99, "recall {recall:.4}:\n{}", missed.join("\n"));
    assert!(
        fp <= 0.01,
        "false positives {fp:.4}:\n{}",
        blocked.join("\n")
    );
}

#[test]
fn without_the_lexicon_and_the_default_allow_list_innocent_texts_are_blocked() {
    let mut b = wordfilter::Dictionary::builder();
    for (category, words) in common::LISTED {
        for w in *words {
            b.word(w, *category);
        }
    }
    let bare = b
        .lexicon(false)
        .default_allow(false)
        .build()
        .expect("builds");
    let policy = common::strict();
    let mut scanner = Scanner::new();
    let innocent = innocent();
    let blocked = innocent
        .iter()
        .filter(|t| scanner.check(t, &[&bare], &policy) != Verdict::Pass)
        .count();
    let fp = blocked as f64 / innocent.len() as f64;
    println!(
        "without lexicon and default allow-list: false positives {:.2}%",
        fp * 100.0
    );
    // The two precision rules carry a real share of the corpus: without
    // them at least 5% of the innocent texts would be blocked.
    assert!(fp >= 0.05, "false positives without the rules only {fp:.4}");
}

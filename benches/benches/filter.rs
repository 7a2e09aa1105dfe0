//! Word-filter bench: folding plus matching a realistic comment stream
//! (mostly innocent Chinese/English live-commerce comments, some evasive
//! hits) against a 10,000-word global dictionary and a 200-word room
//! dictionary, with every fold, the number and lexicon rules, the default
//! allow-list and both detectors on.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wordfilter::{Dictionary, DictionaryBuilder, FoldedText, Policy, Scanner};

/// Tiny deterministic xorshift generator (no `rand` dependency).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const HANZI: &str = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感见明问力理尔点文几定本公特做外孩相西果走将月十实向声车全信重三机工物气每并别真打太新比才便夫再书部水像眼等体却加电主界门利海受听表德少克代员许稀先口由死安写性马光白或住难望教命花结乐色";

const ASCII_ROOTS: &[&str] = &[
    "spam", "scam", "casino", "porn", "drug", "weed", "crypto", "loan", "fake", "bot",
];

const CATEGORIES: &[&str] = &["politics", "ads", "abuse", "contact"];

/// A deterministic dictionary of `n` words: about 70% Chinese (2–4
/// characters), 30% ASCII (5–9 letters, some built on real roots).
fn dictionary(n: usize, seed: u64) -> DictionaryBuilder {
    let hanzi: Vec<char> = HANZI.chars().collect();
    let mut rng = XorShift(seed);
    let mut b = Dictionary::builder();
    for i in 0..n {
        let mut w = String::new();
        if rng.below(10) < 7 {
            for _ in 0..2 + rng.below(3) {
                w.push(*rng.pick(&hanzi));
            }
        } else {
            if rng.below(3) == 0 {
                w.push_str(rng.pick::<&str>(ASCII_ROOTS));
            }
            for _ in 0..5 + rng.below(5) {
                w.push(char::from(b'a' + rng.below(26) as u8));
            }
        }
        b.word(&w, CATEGORIES[i % CATEGORIES.len()]);
    }
    for w in [
        "傻逼",
        "操你妈",
        "法轮功",
        "微信",
        "代购",
        "刷单",
        "fuck",
        "shit",
        "vx",
        "qq",
        "大麻",
        "250",
        "8964",
    ] {
        b.word(w, "abuse");
    }
    b.allow("assassin").allow("傻逼格").default_allow(true);
    b
}

const INNOCENT: &[&str] = &[
    "主播这个多少钱",
    "买了两件，期待发货",
    "2号链接还有吗？",
    "这个颜色好看 😍😍",
    "主播好漂亮啊啊啊",
    "已下单 已下单",
    "有没有优惠券",
    "什么时候发货呀",
    "老铁666",
    "三件打八折吗",
    "How much is the red one?",
    "love it!! so cute",
    "ship to Shanghai? thanks",
    "第一次来直播间，关注了",
    "价格 199 元是包邮的吗",
    "尺码偏大还是偏小？我165/50kg",
    "主播讲一下材质吧",
    "great quality, bought two",
    "感谢主播 ❤️❤️❤️",
    "抢到了！！开心",
    "这个牙刷单价多少",
    "单价2.50元，满100减20",
    "天津大麻花好吃吗",
    "订单号 2024122512345678 什么时候到",
    "2024-12-25 下的单，250克装",
];

const EVASIVE: &[&str] = &[
    "加我 微 信 聊",
    "ｆｕｃｋ this",
    "傻 逼主播",
    "代購找我",
    "ⓥⓧ：①③⑧①②③④⑤⑥⑦⑧",
    "看 www.example.com 更便宜",
    "s.h.i.t",
    "法輪功",
];

/// A deterministic stream of comments: ~95% innocent, ~5% evasive, some
/// innocent ones glued together to vary the length.
fn corpus(n: usize) -> Vec<String> {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    (0..n)
        .map(|_| {
            if rng.below(100) < 5 {
                (*rng.pick(EVASIVE)).to_owned()
            } else if rng.below(4) == 0 {
                format!("{} {}", rng.pick(INNOCENT), rng.pick(INNOCENT))
            } else {
                (*rng.pick(INNOCENT)).to_owned()
            }
        })
        .collect()
}

fn bench_filter(c: &mut Criterion) {
    let global = dictionary(10_000, 0x9E37_79B9_7F4A_7C15)
        .build()
        .expect("global dictionary builds");
    let room = dictionary(200, 42).build().expect("room dictionary builds");
    let comments = corpus(10_000);
    let bytes: usize = comments.iter().map(String::len).sum();
    let policy = Policy::mask().with_digit_runs(7).with_urls();

    let mut group = c.benchmark_group("filter");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("check_10k_words_global_plus_room", |b| {
        let mut scanner = Scanner::new();
        b.iter(|| {
            let mut hits = 0usize;
            for text in &comments {
                let v = scanner.check(black_box(text), &[&global, &room], &policy);
                hits += usize::from(v != wordfilter::Verdict::Pass);
            }
            black_box(hits)
        });
    });
    group.bench_function("fold_only", |b| {
        let mut folded = FoldedText::new();
        b.iter(|| {
            let mut n = 0usize;
            for text in &comments {
                folded.fold_into(black_box(text));
                n += folded.len();
            }
            black_box(n)
        });
    });
    group.finish();

    let mut build = c.benchmark_group("filter_build");
    build.sample_size(10);
    let words = dictionary(10_000, 7);
    build.bench_function("build_10k_words", |b| {
        b.iter(|| black_box(words.build().expect("builds")))
    });
    build.finish();
}

criterion_group!(benches, bench_filter);
criterion_main!(benches);
